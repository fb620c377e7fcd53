/** The media of the deployment by name, and media built for a pipeline's inline targets. */
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { parseDuration } from '../../../core/durations.ts';
import type { Target } from '../rules.ts';
import type { MediumKind, MediumSpec, NotifySettings, SmtpSettings } from '../settings.ts';
import { DEFAULT_SUBJECT_PREFIX } from '../settings.ts';
import { EmailMedium, smtpTransport } from './email.ts';
import { DestinationPolicy } from './destination.ts';
import { LogMedium } from './log.ts';
import { DeliveryError, type Medium } from './medium.ts';
import { SlackMedium } from './slack.ts';
import { WebhookMedium } from './webhook.ts';

export class MediaRegistry {
  private readonly named = new Map<string, Medium>();
  private readonly transports = new Map<SmtpSettings, Transporter>();
  /** Where webhooks written in pipelines may connect to (the deployment's media are trusted). */
  private readonly inlinePolicy: DestinationPolicy;

  constructor(
    private readonly settings: NotifySettings,
    private readonly logger: Logger,
  ) {
    for (const spec of Object.values(settings.media)) this.named.set(spec.name, this.build(spec));
    this.inlinePolicy = new DestinationPolicy(settings.inline.allow);
  }

  private transport(smtp: SmtpSettings, timeoutMs: number): Transporter {
    let transport = this.transports.get(smtp);
    if (!transport) {
      transport = smtpTransport(smtp, timeoutMs);
      this.transports.set(smtp, transport);
    }
    return transport;
  }

  private build(spec: MediumSpec): Medium {
    switch (spec.kind) {
      case 'log':
        return new LogMedium(spec.name, this.logger);
      case 'webhook':
        return new WebhookMedium(spec.name, spec);
      case 'slack':
        return new SlackMedium(spec.name, spec);
      case 'email': {
        // The parser made sure one of the two exists.
        const smtp = (spec.smtp ?? this.settings.smtp) as SmtpSettings;
        const options = { to: spec.to, subjectPrefix: spec.subjectPrefix, from: smtp.from };
        return new EmailMedium(spec.name, options, this.transport(smtp, spec.timeoutMs));
      }
    }
  }

  /** The kind of medium a target names, for the delivery record. */
  kindOf(target: Target): MediumKind | 'unknown' {
    if ('webhook' in target) return 'webhook';
    if ('email' in target) return 'email';
    return this.named.get(target.medium)?.kind ?? 'unknown';
  }

  /** The medium of a target, or why there is none (a permanent failure of the delivery). */
  resolve(target: Target): Medium | DeliveryError {
    if ('medium' in target) {
      return (
        this.named.get(target.medium) ??
        new DeliveryError(
          `no medium named "${target.medium}" in the notif configuration (configured: ${[...this.named.keys()].join(', ')})`,
          true,
        )
      );
    }
    if ('webhook' in target) {
      if (!this.settings.inline.webhook)
        return new DeliveryError('webhooks defined in pipelines are turned off here', true);
      const { url, secret, headers, timeout } = target.webhook;
      return new WebhookMedium('webhook', {
        url,
        ...(secret !== undefined && { secret }),
        headers: headers ?? {},
        timeoutMs: timeout === undefined ? this.settings.timeoutMs : parseDuration(timeout),
        policy: this.inlinePolicy,
      });
    }
    const smtp = this.settings.smtp;
    if (!this.settings.inline.email)
      return new DeliveryError('e-mails defined in pipelines are turned off here', true);
    if (!smtp)
      return new DeliveryError(
        'no SMTP server is configured for e-mails (smtp in the notif configuration)',
        true,
      );
    const { to, subject } = target.email;
    const options = { to, subjectPrefix: subject ?? DEFAULT_SUBJECT_PREFIX, from: smtp.from };
    return new EmailMedium('email', options, this.transport(smtp, this.settings.timeoutMs));
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
    void this.inlinePolicy.close();
  }
}
