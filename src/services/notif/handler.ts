/**
 * What notif does with one event: find the rules it triggers, make the first attempt of each
 * delivery at once, and hand the failed ones to the retry queue. Resolves once every delivery
 * succeeded, was given up on, or has its retry durably scheduled: then the event may be acked.
 */
import type { Logger } from 'pino';
import type { Deliverer, DeliveryJob } from './deliver.ts';
import { buildNotification, eventOf, type Notification, type StreamEvent } from './notification.ts';
import type { Retries } from './retries.ts';
import { retryDelayMs } from './retry.ts';
import { planDeliveries, type PlannedDelivery } from './rules.ts';
import type { RunContexts } from './run-context.ts';
import type { NotifySettings } from './settings.ts';

export class EventHandler {
  constructor(
    private readonly contexts: RunContexts,
    private readonly settings: NotifySettings,
    private readonly deliverer: Deliverer,
    private readonly retries: Retries,
    private readonly publicUrl: string,
    private readonly logger: Logger,
  ) {}

  async handle(e: StreamEvent): Promise<void> {
    const event = eventOf(e);
    if (event === undefined || e.uid === '') return;
    const run = await this.contexts.get(e.uid, event === 'failure');
    const planned = planDeliveries(e.id, event, run, run.rules, this.settings.rules);
    if (planned.length > 0) {
      const notification = buildNotification(event, e, run, this.publicUrl);
      await Promise.all(planned.map((p) => this.deliver(p, notification)));
    }
    if (e.job === undefined && ['success', 'failure', 'canceled'].includes(event))
      this.contexts.forget(e.uid);
  }

  private async deliver(planned: PlannedDelivery, notification: Notification): Promise<void> {
    // This event was handled before (its notif died before acking it): what got recorded is done.
    if (await this.deliverer.recorded(planned.key)) return;
    const job: DeliveryJob = { ...planned, notification, createdAt: Date.now() };
    const outcome = await this.deliverer.attempt(job);
    if (outcome.ok) {
      await this.deliverer.record(job, 'delivered', 1);
      return;
    }
    const log = { key: job.key, medium: job.medium, error: outcome.error, detail: outcome.detail };
    if (outcome.permanent || this.settings.retry.attempts <= 1) {
      await this.deliverer.record(job, 'failed', 1, { lastError: outcome.error });
      this.logger.error(log, 'notification given up');
      return;
    }
    const delayMs = retryDelayMs(this.settings.retry, 1, outcome.retryAfterMs);
    // Scheduled before it is recorded: a record "retrying" always has its retry queued.
    await this.retries.schedule(job, delayMs);
    await this.deliverer.record(job, 'retrying', 1, {
      lastError: outcome.error,
      nextAttemptAt: Date.now() + delayMs,
    });
    this.logger.warn({ ...log, delayMs }, 'notification failed; retrying');
  }
}
