/**
 * The attempts of a dead worker, handed back as soon as its registration lapses, instead of when
 * BullMQ's lock on them expires and a stalled-job check runs (up to two lock durations: a minute
 * by default). A queue entry being processed is locked by the BullMQ worker whose id starts the
 * lock's token (`<worker id>:<n>`); every live work instance registers the ids of its BullMQ
 * workers before taking a job (InstanceRecord.queueWorkers). An entry locked by a worker no
 * registration names is moved back to the head of its queue with that worker's token, through
 * BullMQ's own move (refused if the lock changed hands meanwhile), and the next worker restarts
 * it (start-job.lua answers 'restart').
 */
import { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { InstanceStore } from '../../store/instances.ts';
import type { AttemptData, ReadyQueues } from '../../store/queue.ts';

/** The BullMQ worker holding a lock, from its token. */
const lockHolder = (token: string) => token.slice(0, token.indexOf(':'));

/** Hands back the entries of the given executors' queues locked by workers no longer registered. */
export async function handBackOrphans(
  queues: ReadyQueues,
  executors: string[],
  instances: InstanceStore,
  logger: Logger,
): Promise<void> {
  // Locks first, registrations second: each lock read was taken by a worker registered before
  // it took it, so the registrations read afterwards name that worker unless it is gone.
  const locked = await Promise.all(
    executors.map(async (executor) => {
      const queue = queues.queue(executor);
      const ids = await queue.getRanges(['active']);
      if (ids.length === 0) return [];
      const tokens = await queues.connection.mget(ids.map((id) => `${queue.toKey(id)}:lock`));
      return ids.map((id, i) => ({ executor, id, token: tokens[i] ?? null }));
    }),
  );
  const entries = locked.flat();
  if (entries.length === 0) return;
  const workers = (await instances.live()).filter((i) => i.service === 'work');
  // A worker of an older version does not name its queue workers: its locks cannot be told
  // from a dead worker's, and BullMQ's recovery stays the only one until it is gone.
  if (workers.some((w) => w.queueWorkers === undefined)) return;
  const alive = new Set(workers.flatMap((w) => w.queueWorkers ?? []));
  for (const { executor, id, token } of entries) {
    // No lock: expired already, BullMQ's stalled-job check takes it back.
    if (token === null || alive.has(lockHolder(token))) continue;
    const job = await Job.fromId<AttemptData>(queues.queue(executor), id);
    if (!job) continue;
    try {
      await job.moveToWait(token);
    } catch {
      continue; // finished, or handed back by another worker, meanwhile
    }
    logger.warn(
      { attempt: job.data, deadWorker: lockHolder(token) },
      'handed back the attempt of a worker whose registration lapsed',
    );
  }
}
