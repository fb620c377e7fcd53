/** BullMQ queues of ready job attempts, one per executor, shared by sched (roots) and work. */
import { setImmediate } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { coalesceWrites } from './connection.ts';
import { attemptId, readyQueueName, type Keys } from './keys.ts';
import type { ReadyJob } from './scripts.ts';

export interface AttemptData {
  uid: string;
  job: string;
  attempt: number;
}

export const READY_JOB_OPTIONS = {
  // Retries here cover infrastructure errors (Redis lost mid-transition), not job failures:
  // a job's own outcome is recorded, never thrown.
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** The first chunk of a long list to enqueue, and the next ones (ReadyQueues.enqueue). */
const FIRST_CHUNK = 16;
const CHUNK = 250;
/** From how many attempts one addBulk costs less than an add each. */
const BULK_FROM = 20;

export class ReadyQueues {
  private readonly queues = new Map<string, Queue<AttemptData>>();
  /**
   * The queues' own connection, opened on first use. BullMQ defines its scripts (dozens)
   * on the connection it is given, and ioredis copies every script defined on a connection into
   * each pipeline and MULTI made on it: on the caller's connection, every pipeline the caller
   * makes (a worker's log writes, for one) would pay for BullMQ's scripts.
   */
  private shared: Redis | undefined;

  constructor(
    private readonly base: Redis,
    private readonly keys: Keys,
  ) {}

  /** The queues' connection (see above). */
  get connection(): Redis {
    if (!this.shared) {
      this.shared = coalesceWrites(this.base.duplicate());
      this.shared.on('error', () => undefined); // as connect(): callers report their failures
    }
    return this.shared;
  }

  queue(executor: string): Queue<AttemptData> {
    let queue = this.queues.get(executor);
    if (!queue) {
      queue = new Queue<AttemptData>(readyQueueName(executor), {
        connection: this.connection,
        prefix: this.keys.bullPrefix,
        defaultJobOptions: READY_JOB_OPTIONS,
      });
      this.queues.set(executor, queue);
    }
    return queue;
  }

  /**
   * Enqueues ready attempts, in the order given; the attempt id as job id makes a repeated
   * enqueue a no-op. A long list (a forEach job's instances, a wide fan-out) goes in chunks, each
   * sent once the one before is in Redis and the replies that came in meanwhile were handled, the
   * first one small: its attempts can be fetched (and the worker's event loop is free to fetch
   * them) after one short round trip instead of after the whole list's (bench fan-out).
   */
  async enqueue(uid: string, ready: ReadyJob[], delayMs = 0): Promise<void> {
    for (let at = 0, size = FIRST_CHUNK; at < ready.length; at += size, size = CHUNK) {
      // The replies that came in meanwhile (a worker's fetch of what is enqueued) go first.
      if (at > 0) await setImmediate();
      await this.add(uid, ready.slice(at, at + size), delayMs);
    }
  }

  /**
   * Adds attempts together: one `add` each below BULK_FROM, else one addBulk per executor.
   * addBulk builds an ioredis pipeline, which copies every script BullMQ defined on the
   * connection (52): it costs more than the adds it saves for a few, less for many.
   */
  private async add(uid: string, ready: ReadyJob[], delayMs: number): Promise<void> {
    const job = ({ job, attempt }: ReadyJob) => ({
      name: job,
      data: { uid, job, attempt },
      opts: { jobId: attemptId(uid, job, attempt), ...(delayMs > 0 && { delay: delayMs }) },
    });
    if (ready.length < BULK_FROM) {
      await Promise.all(
        ready.map((r) => {
          const { name, data, opts } = job(r);
          return this.queue(r.executor).add(name, data, opts);
        }),
      );
      return;
    }
    const byExecutor = new Map<string, ReadyJob[]>();
    for (const r of ready) {
      const list = byExecutor.get(r.executor) ?? [];
      byExecutor.set(r.executor, list);
      list.push(r);
    }
    await Promise.all(
      [...byExecutor].map(([executor, list]) => this.queue(executor).addBulk(list.map(job))),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.shared?.disconnect();
  }
}
