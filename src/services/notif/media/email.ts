/** E-mail over SMTP with nodemailer: one transport per SMTP server, reused across deliveries. */
import { createTransport, type Transporter } from 'nodemailer';
import type { SmtpSettings } from '../settings.ts';
import { emailMessage } from './email-message.ts';
import { DeliveryError, type Delivery, type Medium } from './medium.ts';

export function smtpTransport(smtp: SmtpSettings, timeoutMs: number): Transporter {
  return createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTLS,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized },
    ...(smtp.auth && { auth: { user: smtp.auth.user, pass: smtp.auth.pass } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}

/** An SMTP failure in words safe to show: the error code and the server's answer, if any. */
function describe(err: unknown): DeliveryError {
  const e = err as { code?: unknown; responseCode?: unknown; response?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'error';
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const answer =
    typeof e.response === 'string' ? `: ${e.response.split('\n')[0]?.slice(0, 200)}` : '';
  // 5xx is the server refusing this message or these credentials: retrying cannot help.
  return new DeliveryError(`SMTP ${code}${answer}`, status !== undefined && status >= 500);
}

export class EmailMedium implements Medium {
  readonly kind = 'email';

  constructor(
    readonly name: string,
    private readonly spec: { to: string[]; subjectPrefix: string; from: string },
    private readonly transport: Transporter,
  ) {}

  async send(delivery: Delivery): Promise<void> {
    const message = emailMessage(delivery.notification, delivery.key, this.spec.subjectPrefix);
    try {
      await this.transport.sendMail({ from: this.spec.from, to: this.spec.to, ...message });
    } catch (err) {
      throw describe(err);
    }
  }
}
