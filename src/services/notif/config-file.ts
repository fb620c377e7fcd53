/**
 * The notif configuration file (YAML, path in CHAINR_NOTIFY_CONFIG): media by name, deployment
 * rules, retries, the SMTP server. Every problem is reported with its path; secrets resolve from
 * the environment or files and never appear in a message. Pure: the secret sources are given.
 */
import { parse as parseYaml } from 'yaml';
import { parseSelector } from '../../core/selector.ts';
import { NOTIFICATION_EVENTS, type NotificationEvent } from '../../core/types.ts';
import type { DeploymentRule } from './rules.ts';
import { at, Reader } from './config-reader.ts';
import { parseNetwork } from './media/destination.ts';
import type { SecretSources } from './secrets.ts';
import type { MediumSpec, NotifySettings, SmtpSettings } from './settings.ts';
import { DEFAULT_SUBJECT_PREFIX, defaultSettings } from './settings.ts';

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const SMTP_FIELDS = [
  'host',
  'port',
  'secure',
  'requireTLS',
  'rejectUnauthorized',
  'user',
  'password',
  'from',
];

function smtp(r: Reader, value: unknown, path: string): SmtpSettings {
  const m = r.mapping(value, path, SMTP_FIELDS);
  const secure = r.boolean(m.secure, at(path, 'secure'), false);
  const user = r.optionalText(m.user, at(path, 'user'));
  const password = r.optionalText(m.password, at(path, 'password'), true);
  if ((user === undefined) !== (password === undefined))
    r.fail(path, 'set both user and password, or neither');
  return {
    host: r.text(m.host, at(path, 'host')),
    port: r.integer(m.port, at(path, 'port'), secure ? 465 : 587, 1, 65535),
    secure,
    requireTLS: r.boolean(m.requireTLS, at(path, 'requireTLS'), false),
    rejectUnauthorized: r.boolean(m.rejectUnauthorized, at(path, 'rejectUnauthorized'), true),
    ...(user !== undefined && password !== undefined && { auth: { user, pass: password } }),
    from: r.text(m.from, at(path, 'from')),
  };
}

function medium(r: Reader, name: string, value: unknown, path: string, timeoutMs: number) {
  const m = r.mapping(value, path, ['webhook', 'slack', 'email', 'log']);
  const kinds = Object.keys(m);
  if (kinds.length !== 1) r.fail(path, 'must have exactly one of webhook, slack, email, log');
  const kind = kinds[0] as MediumSpec['kind'];
  const p = at(path, kind);
  if (kind === 'log') {
    r.mapping(m.log, p, []);
    return { kind, name };
  }
  if (kind === 'slack') {
    const s = r.mapping(m.slack, p, ['url', 'timeout']);
    const timeout = r.duration(s.timeout, at(p, 'timeout'), timeoutMs);
    return { kind, name, url: r.url(s.url, at(p, 'url')), timeoutMs: timeout };
  }
  if (kind === 'webhook') {
    const w = r.mapping(m.webhook, p, ['url', 'secret', 'headers', 'timeout']);
    const headers: Record<string, string> = {};
    for (const [header, v] of Object.entries(
      r.mapping(w.headers, at(p, 'headers'), Object.keys(w.headers ?? {})),
    )) {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(header))
        r.fail(at(p, 'headers'), `"${header}" is not a header name`);
      headers[header] = r.text(v, at(at(p, 'headers'), header), true);
    }
    const secret = r.optionalText(w.secret, at(p, 'secret'), true);
    return {
      kind,
      name,
      url: r.url(w.url, at(p, 'url')),
      ...(secret !== undefined && { secret }),
      headers,
      timeoutMs: r.duration(w.timeout, at(p, 'timeout'), timeoutMs),
    };
  }
  const e = r.mapping(m.email, p, ['to', 'subject', 'smtp', 'timeout']);
  return {
    kind,
    name,
    to: r.addresses(e.to, at(p, 'to')),
    subjectPrefix: r.optionalText(e.subject, at(p, 'subject')) ?? DEFAULT_SUBJECT_PREFIX,
    ...(e.smtp !== undefined && { smtp: smtp(r, e.smtp, at(p, 'smtp')) }),
    timeoutMs: r.duration(e.timeout, at(p, 'timeout'), timeoutMs),
  };
}

function rule(r: Reader, value: unknown, path: string, media: Record<string, MediumSpec>) {
  const m = r.mapping(value, path, ['on', 'to', 'pipelines', 'selector']);
  const on = r.list(m.on, at(path, 'on')).map((e, i) => {
    if (!NOTIFICATION_EVENTS.includes(e as NotificationEvent))
      r.fail(at(at(path, 'on'), i), `must be one of ${NOTIFICATION_EVENTS.join(', ')}`);
    return e as NotificationEvent;
  });
  const to = r.text(m.to, at(path, 'to'));
  if (!Object.hasOwn(media, to))
    r.fail(
      at(path, 'to'),
      `no medium named "${to}" (configured: ${Object.keys(media).join(', ')})`,
    );
  const out: DeploymentRule = { on, to };
  if (m.pipelines !== undefined)
    out.pipelines = r
      .list(m.pipelines, at(path, 'pipelines'))
      .map((p, i) => r.text(p, at(at(path, 'pipelines'), i)));
  if (m.selector !== undefined) {
    const parsed = parseSelector(r.text(m.selector, at(path, 'selector')));
    if (!parsed.ok) r.fail(at(path, 'selector'), parsed.error);
    out.selector = parsed.requirements;
  }
  return out;
}

const TOP = ['timeout', 'retry', 'claim', 'records', 'inline', 'smtp', 'media', 'rules'];

/** The settings a configuration file's text describes; throws ConfigError naming the problem. */
export function parseNotifyConfig(
  text: string,
  source: string,
  sources: SecretSources,
): NotifySettings {
  const r: Reader = new Reader(source, sources);
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    r.fail(
      '',
      `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
  const top = r.mapping(document, '', TOP);
  const settings = defaultSettings();
  settings.timeoutMs = r.duration(top.timeout, 'timeout', settings.timeoutMs);
  const retry = r.mapping(top.retry, 'retry', ['attempts', 'delay', 'maxDelay']);
  settings.retry = {
    attempts: r.integer(retry.attempts, 'retry.attempts', settings.retry.attempts, 1, 100),
    delayMs: r.duration(retry.delay, 'retry.delay', settings.retry.delayMs),
    maxDelayMs: r.duration(retry.maxDelay, 'retry.maxDelay', settings.retry.maxDelayMs),
  };
  const claim = r.mapping(top.claim, 'claim', ['idle', 'interval']);
  settings.claimIdleMs = r.duration(claim.idle, 'claim.idle', settings.claimIdleMs);
  settings.claimIntervalMs = r.duration(claim.interval, 'claim.interval', settings.claimIntervalMs);
  settings.maxRecords = r.integer(top.records, 'records', settings.maxRecords, 100, 10_000_000);
  const inline = r.mapping(top.inline, 'inline', ['webhook', 'email', 'allow']);
  settings.inline = {
    webhook: r.boolean(inline.webhook, 'inline.webhook', true),
    email: r.boolean(inline.email, 'inline.email', true),
    allow:
      inline.allow === undefined || inline.allow === null
        ? []
        : r.list(inline.allow, 'inline.allow').map((value, i) => {
            const network = typeof value === 'string' ? parseNetwork(value) : undefined;
            if (!network)
              r.fail(
                at('inline.allow', i),
                'must be an address or a network such as 127.0.0.1, 10.0.0.0/8 or fd00::/8',
              );
            return network;
          }),
  };
  if (top.smtp !== undefined && top.smtp !== null) settings.smtp = smtp(r, top.smtp, 'smtp');
  const media = r.mapping(top.media, 'media', Object.keys(top.media ?? {}));
  for (const [name, value] of Object.entries(media)) {
    if (!NAME.test(name) || name.length > 63)
      r.fail(
        at('media', name),
        "a medium name must be a DNS name (lowercase letters, digits, '-' and '.')",
      );
    const spec = medium(r, name, value, at('media', name), settings.timeoutMs) as MediumSpec;
    if (spec.kind === 'email' && !spec.smtp && !settings.smtp)
      r.fail(
        at('media', name),
        'an e-mail medium needs an SMTP server: set smtp (here or at the top level)',
      );
    settings.media[name] = spec;
  }
  if (top.rules !== undefined && top.rules !== null) {
    const rules: unknown = top.rules;
    if (!Array.isArray(rules)) r.fail('rules', 'must be a list');
    settings.rules = rules.map((v, i) => rule(r, v, at('rules', i), settings.media));
  }
  settings.secrets = r.secrets;
  return settings;
}
