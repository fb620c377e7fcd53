/** The BullMQ queue of ready job attempts, shared by sched (roots) and work (dependents). */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { READY_QUEUE, attemptId, type Keys } from './keys.ts';
import type { ReadyJob } from './scripts.ts';

export interface AttemptData {
  uid: string;
  job: string;
  attempt: number;
}

export function readyQueue(connection: Redis, keys: Keys): Queue<AttemptData> {
  return new Queue<AttemptData>(READY_QUEUE, {
    connection,
    prefix: keys.bullPrefix,
    defaultJobOptions: {
      // Retries here cover infrastructure errors (Redis lost mid-transition), not job failures:
      // a job's own outcome is recorded, never thrown.
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

/** Enqueues ready attempts; the attempt id as job id makes a repeated enqueue a no-op. */
export async function enqueue(
  queue: Queue<AttemptData>,
  uid: string,
  ready: ReadyJob[],
): Promise<void> {
  if (ready.length === 0) return;
  await queue.addBulk(
    ready.map(({ job, attempt }) => ({
      name: job,
      data: { uid, job, attempt },
      opts: { jobId: attemptId(uid, job, attempt) },
    })),
  );
}
