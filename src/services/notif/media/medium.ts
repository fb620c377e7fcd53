/** What every medium is: something that sends one notification, or says why it could not. */
import type { Notification } from '../notification.ts';
import type { MediumKind } from '../settings.ts';

export interface Delivery {
  /** `<event id>/<rule>/<medium>`, sent along so that receivers can drop repeats. */
  key: string;
  notification: Notification;
}

export interface Medium {
  readonly kind: MediumKind;
  readonly name: string;
  /** Resolves once the receiver accepted it; rejects with a DeliveryError otherwise. */
  send(delivery: Delivery): Promise<void>;
  close?(): void;
}

/**
 * Why a delivery attempt failed, in words safe to show (no address, no secret). A permanent
 * failure is not retried: the receiver refused the notification itself.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
    /** The receiver asked to wait this long before the next attempt (Retry-After). */
    readonly retryAfterMs?: number,
    /** What happened, for notif's log (which operators read) but not for the delivery record. */
    readonly detail?: string,
  ) {
    super(message);
  }
}
