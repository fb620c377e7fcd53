/** The notif service's settings, as read from its configuration file (config-file.ts). */
import type { Network } from './media/destination.ts';
import type { DeploymentRule } from './rules.ts';

export interface RetryPolicy {
  /** Attempts of one delivery in all, the first included (1: never retry). */
  attempts: number;
  /** The wait before the first retry; each further wait doubles, up to maxDelayMs. */
  delayMs: number;
  maxDelayMs: number;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  /** Refuse to send when the server does not offer STARTTLS. */
  requireTLS: boolean;
  /** Verify the server's certificate (turn off only for a test server). */
  rejectUnauthorized: boolean;
  auth?: { user: string; pass: string };
  from: string;
}

export type MediumSpec =
  | { kind: 'log'; name: string }
  | {
      kind: 'webhook';
      name: string;
      url: string;
      secret?: string;
      headers: Record<string, string>;
      timeoutMs: number;
    }
  | { kind: 'slack'; name: string; url: string; timeoutMs: number }
  | {
      kind: 'email';
      name: string;
      to: string[];
      subjectPrefix: string;
      /** This medium's SMTP server, else the deployment's. */
      smtp?: SmtpSettings;
      timeoutMs: number;
    };

export type MediumKind = MediumSpec['kind'];

export interface NotifySettings {
  /** By name; `log` always exists. */
  media: Record<string, MediumSpec>;
  rules: DeploymentRule[];
  retry: RetryPolicy;
  /** Default timeout of a delivery attempt. */
  timeoutMs: number;
  /** The deployment's SMTP server, for e-mail media without their own and inline e-mails. */
  smtp?: SmtpSettings;
  /**
   * Whether pipelines may define their own webhooks / e-mails (not only name media), and the
   * networks beyond public addresses that such webhooks may reach (none by default).
   */
  inline: { webhook: boolean; email: boolean; allow: Network[] };
  /** An event left unacknowledged this long by a consumer is taken over by another. */
  claimIdleMs: number;
  /** How often a consumer looks for such events. */
  claimIntervalMs: number;
  /** Delivery records kept (the oldest are dropped first). */
  maxRecords: number;
  /** Every secret value of the configuration, so that none is ever written out. */
  secrets: string[];
}

export const DEFAULT_SUBJECT_PREFIX = '[chainr]';

export function defaultSettings(): NotifySettings {
  return {
    media: { log: { kind: 'log', name: 'log' } },
    rules: [],
    retry: { attempts: 5, delayMs: 1000, maxDelayMs: 5 * 60_000 },
    timeoutMs: 10_000,
    inline: { webhook: true, email: true, allow: [] },
    claimIdleMs: 60_000,
    claimIntervalMs: 10_000,
    maxRecords: 10_000,
    secrets: [],
  };
}
