/** The generic webhook: the notification as JSON, signed with HMAC-SHA256 over the raw body. */
import { createHmac } from 'node:crypto';
import { postJson } from './http.ts';
import type { Delivery, Medium } from './medium.ts';

export interface WebhookSpec {
  url: string;
  secret?: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** The `X-Chainr-Signature` value: `sha256=` and the hex HMAC-SHA256 of the exact body bytes. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The request body: the notification, with the delivery's idempotency key as its `id`. */
export function webhookBody(delivery: Delivery): string {
  return JSON.stringify({ kind: 'Notification', id: delivery.key, ...delivery.notification });
}

export class WebhookMedium implements Medium {
  readonly kind = 'webhook';

  constructor(
    readonly name: string,
    private readonly spec: WebhookSpec,
  ) {}

  async send(delivery: Delivery): Promise<void> {
    const body = webhookBody(delivery);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.spec.headers)) headers[k.toLowerCase()] = v;
    headers['idempotency-key'] = delivery.key;
    headers['x-chainr-event'] = delivery.notification.event;
    if (this.spec.secret !== undefined)
      headers['x-chainr-signature'] = signature(body, this.spec.secret);
    await postJson(`webhook "${this.name}"`, this.spec.url, body, headers, this.spec.timeoutMs);
  }
}
