/** BullMQ queues of ready job attempts, one per executor, shared by sched (roots) and work. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
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

  constructor(
    private readonly connection: Redis,
    private readonly keys: Keys,
  ) {}

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

  /** Enqueues ready attempts; the attempt id as job id makes a repeated enqueue a no-op. */
  async enqueue(uid: string, ready: ReadyJob[], delayMs = 0): Promise<void> {
    const byExecutor = new Map<string, ReadyJob[]>();
    for (const r of ready) byExecutor.set(r.executor, [...(byExecutor.get(r.executor) ?? []), r]);
    await Promise.all(
      [...byExecutor].map(([executor, jobs]) =>
        this.queue(executor).addBulk(
          jobs.map(({ job, attempt }) => ({
            name: job,
            data: { uid, job, attempt },
            opts: { jobId: attemptId(uid, job, attempt), ...(delayMs > 0 && { delay: delayMs }) },
          })),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
