/**
 * Retries of failed deliveries on a BullMQ queue: each waits its backoff as a delayed job (jobId
 * = the idempotency key, so scheduling it twice is a no-op), and a notif that dies mid-attempt
 * leaves the job to BullMQ's stalled-job recovery. The stream is acknowledged once the retry is
 * scheduled, so a slow or dead receiver never holds up the other notifications.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Deliverer, DeliveryJob } from './deliver.ts';
import { retryDelayMs } from './retry.ts';
import type { RetryPolicy } from './settings.ts';

export const NOTIFY_QUEUE = 'notify';

/** A failed attempt with attempts left: BullMQ runs the job again after `delayMs`. */
class RetryLater extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

export class Retries {
  private readonly queue: Queue<DeliveryJob>;
  private readonly worker: Worker<DeliveryJob>;

  constructor(
    options: {
      connection: Redis;
      workerConnection: Redis;
      prefix: string;
      concurrency: number;
    },
    private readonly deliverer: Deliverer,
    private readonly policy: RetryPolicy,
    private readonly logger: Logger,
  ) {
    this.queue = new Queue<DeliveryJob>(NOTIFY_QUEUE, {
      connection: options.connection,
      prefix: options.prefix,
    });
    this.worker = new Worker<DeliveryJob>(NOTIFY_QUEUE, (job) => this.process(job), {
      connection: options.workerConnection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      maxStalledCount: 10,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          err instanceof RetryLater ? err.delayMs : retryDelayMs(policy, attemptsMade + 1),
      },
    });
    this.worker.on('error', (err) => logger.error({ err }, 'notification retry worker error'));
    this.worker.on('failed', (job, err) => {
      // Failures the processor recorded itself are UnrecoverableError; others (a stalled job,
      // Redis lost mid-record) are recorded here once BullMQ gives up.
      if (!job || err instanceof UnrecoverableError || err instanceof RetryLater) return;
      if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
      deliverer
        .record(job.data, 'failed', job.attemptsMade + 1, { lastError: err.message.slice(0, 500) })
        .catch((e: unknown) => logger.error({ err: e, key: job.data.key }, 'recording failed'));
    });
  }

  /** Schedules attempt 2 of a delivery after `delayMs`; durable once this resolves. */
  async schedule(job: DeliveryJob, delayMs: number): Promise<void> {
    await this.queue.add('deliver', job, {
      jobId: job.key,
      delay: delayMs,
      attempts: Math.max(1, this.policy.attempts - 1),
      backoff: { type: 'notif' },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    });
  }

  private async process(job: Job<DeliveryJob>): Promise<void> {
    const attempt = job.attemptsMade + 2;
    const outcome = await this.deliverer.attempt(job.data);
    if (outcome.ok) {
      await this.deliverer.record(job.data, 'delivered', attempt);
      return;
    }
    const { key, medium } = job.data;
    const { error, detail } = outcome;
    if (outcome.permanent || attempt >= this.policy.attempts) {
      await this.deliverer.record(job.data, 'failed', attempt, { lastError: outcome.error });
      this.logger.error({ key, medium, attempt, error, detail }, 'notification given up');
      throw new UnrecoverableError(outcome.error);
    }
    const delayMs = retryDelayMs(this.policy, attempt, outcome.retryAfterMs);
    const nextAttemptAt = Date.now() + delayMs;
    await this.deliverer.record(job.data, 'retrying', attempt, {
      lastError: outcome.error,
      nextAttemptAt,
    });
    this.logger.warn(
      { key, medium, attempt, delayMs, error, detail },
      'notification failed; retrying',
    );
    throw new RetryLater(outcome.error, delayMs);
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }
}
