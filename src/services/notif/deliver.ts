/** One attempt of one delivery, and the record of where it stands. */
import type { DeliveryStatus } from '../../core/types.ts';
import type { DeliveryRecord, NotificationStore } from '../../store/notifications.ts';
import { deliveriesTotal } from '../../http/ops/metrics.ts';
import { DeliveryError } from './media/medium.ts';
import type { MediaRegistry } from './media/registry.ts';
import type { Notification } from './notification.ts';
import type { Target } from './rules.ts';
import { redact } from './secrets.ts';

/** A delivery as it is scheduled for retries (BullMQ job data): no secret of the deployment. */
export interface DeliveryJob {
  key: string;
  rule: string;
  medium: string;
  target: Target;
  notification: Notification;
  createdAt: number;
}

export type Outcome =
  | { ok: true }
  | {
      ok: false;
      /** What the delivery record shows (viewers read it). */
      error: string;
      /** More, for notif's log only. */
      detail?: string;
      permanent: boolean;
      retryAfterMs?: number;
    };

export class Deliverer {
  constructor(
    private readonly media: MediaRegistry,
    private readonly store: NotificationStore,
    private readonly secrets: readonly string[],
  ) {}

  async attempt(job: DeliveryJob): Promise<Outcome> {
    const outcome = await this.send(job);
    const medium = this.media.kindOf(job.target);
    deliveriesTotal.inc({ medium, outcome: outcome.ok ? 'delivered' : 'failed' });
    return outcome;
  }

  private async send(job: DeliveryJob): Promise<Outcome> {
    const medium = this.media.resolve(job.target);
    try {
      if (medium instanceof DeliveryError) throw medium;
      await medium.send({ key: job.key, notification: job.notification });
      return { ok: true };
    } catch (err) {
      const e =
        err instanceof DeliveryError ? err : new DeliveryError(`unexpected error: ${String(err)}`);
      return {
        ok: false,
        error: redact(e.message, this.secrets).slice(0, 500),
        ...(e.detail !== undefined && { detail: redact(e.detail, this.secrets).slice(0, 500) }),
        permanent: e.permanent,
        ...(e.retryAfterMs !== undefined && { retryAfterMs: e.retryAfterMs }),
      };
    }
  }

  async record(
    job: DeliveryJob,
    status: DeliveryStatus,
    attempts: number,
    details: { lastError?: string; nextAttemptAt?: number } = {},
  ): Promise<void> {
    const n = job.notification;
    const record: DeliveryRecord = {
      key: job.key,
      eventId: n.eventId,
      event: n.event,
      uid: n.run.uid,
      ...(n.job && { job: n.job.name }),
      ...(n.run.name !== undefined && { pipeline: n.run.name }),
      rule: job.rule,
      medium: job.medium,
      mediumType: this.media.kindOf(job.target),
      inline: !('medium' in job.target),
      status,
      attempts,
      ...details,
      createdAt: job.createdAt,
      updatedAt: Date.now(),
    };
    await this.store.save(record);
  }

  /** The record of a delivery, if an earlier pass over its event got as far as writing one. */
  recorded(key: string): Promise<DeliveryRecord | undefined> {
    return this.store.get(key);
  }
}
