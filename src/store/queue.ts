/** BullMQ queues of ready job attempts, one per executor, shared by sched (roots) and work. */
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
   * Enqueues ready attempts; the attempt id as job id makes a repeated enqueue a no-op. One `add`
   * each, sent together: BullMQ's addBulk builds an ioredis pipeline, which copies every script
   * BullMQ defined on the connection (52), and costs more than the adds it saves below about 20.
   */
  async enqueue(uid: string, ready: ReadyJob[], delayMs = 0): Promise<void> {
    await Promise.all(
      ready.map(({ job, attempt, executor }) =>
        this.queue(executor).add(
          job,
          { uid, job, attempt },
          { jobId: attemptId(uid, job, attempt), ...(delayMs > 0 && { delay: delayMs }) },
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.shared?.disconnect();
  }
}
