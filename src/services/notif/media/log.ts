/** The `log` medium: one structured log line per notification. */
import type { Logger } from 'pino';
import type { Delivery, Medium } from './medium.ts';

export class LogMedium implements Medium {
  readonly kind = 'log';

  constructor(
    readonly name: string,
    private readonly logger: Logger,
  ) {}

  send(delivery: Delivery): Promise<void> {
    this.logger.info(
      { notification: { id: delivery.key, ...delivery.notification } },
      delivery.notification.summary,
    );
    return Promise.resolve();
  }
}
