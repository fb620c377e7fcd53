/** Slack through an incoming webhook (its URL is the secret). */
import { postJson } from './http.ts';
import type { Delivery, Medium } from './medium.ts';
import { slackMessage } from './slack-message.ts';

export class SlackMedium implements Medium {
  readonly kind = 'slack';

  constructor(
    readonly name: string,
    private readonly spec: { url: string; timeoutMs: number },
  ) {}

  async send(delivery: Delivery): Promise<void> {
    const body = JSON.stringify(slackMessage(delivery.notification));
    // Slack ignores the header; it is there for proxies and test receivers.
    const headers = { 'idempotency-key': delivery.key };
    await postJson(`Slack "${this.name}"`, this.spec.url, body, headers, this.spec.timeoutMs, {
      quoteErrorCode: true,
    });
  }
}
