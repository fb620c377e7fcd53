/**
 * The generic webhook: the notification as JSON, signed over the raw body twice when it has a
 * secret — `X-Chainr-Signature` (HMAC-SHA256 of the body) and the Standard Webhooks headers
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`), whose signature covers the timestamp
 * too, so that a receiver can refuse a captured request replayed later.
 */
import { createHmac } from 'node:crypto';
import type { DestinationPolicy } from './destination.ts';
import { postJson } from './http.ts';
import type { Delivery, Medium } from './medium.ts';

export interface WebhookSpec {
  url: string;
  secret?: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Set for a webhook written in a pipeline: where it may connect to. */
  policy?: DestinationPolicy;
}

/** The `X-Chainr-Signature` value: `sha256=` and the hex HMAC-SHA256 of the exact body bytes. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

const STANDARD_SECRET_PREFIX = 'whsec_';

/**
 * The Standard Webhooks headers of one attempt. The key is the secret's bytes: base64-decoded
 * when the secret has the scheme's own form `whsec_<base64>` (what `new Webhook(secret)`
 * expects), otherwise its UTF-8 text as it is (`new Webhook(secret, { format: 'raw' })`).
 */
export function standardSignatureHeaders(
  id: string,
  timestampSeconds: number,
  body: string,
  secret: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const key = secret.startsWith(STANDARD_SECRET_PREFIX)
    ? Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
  const signed = `${id}.${timestampSeconds}.${body}`;
  const mac = createHmac('sha256', key).update(signed, 'utf8').digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${mac}`,
  };
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
    if (this.spec.secret !== undefined) {
      headers['x-chainr-signature'] = signature(body, this.spec.secret);
      // The same id at every attempt (receivers drop repeats by it), a fresh timestamp each.
      const now = Math.floor(Date.now() / 1000);
      Object.assign(headers, standardSignatureHeaders(delivery.key, now, body, this.spec.secret));
    }
    await postJson(`webhook "${this.name}"`, this.spec.url, body, headers, this.spec.timeoutMs, {
      ...(this.spec.policy && { untrusted: this.spec.policy }),
    });
  }
}
