/** The `notifications` field of the pipeline schema: what it accepts, and errors with their paths. */
import { describe, expect, it } from 'vitest';
import { NOTIFICATION_EVENTS } from '../../core/types.ts';
import { formatError, pipelineSchema, validatePipeline } from '../../core/validate.ts';

const pipeline = (notifications: unknown) => ({
  kind: 'Pipeline',
  jobs: { a: { image: 'busybox', run: 'true' } },
  notifications,
});
const errors = (notifications: unknown): string[] => {
  const r = validatePipeline(pipeline(notifications));
  return r.ok ? [] : r.errors.map(formatError);
};

describe('notifications in the pipeline schema', () => {
  it('lists the events the service knows', () => {
    const props = pipelineSchema.properties as Record<
      string,
      { items: { properties: { on: { items: { enum: string[] } } } } }
    >;
    expect(props.notifications?.items.properties.on.items.enum).toEqual([...NOTIFICATION_EVENTS]);
  });

  it('accepts a medium name, an inline webhook and an inline e-mail', () => {
    expect(
      errors([
        { on: ['failure', 'job-retry'], to: 'team-slack' },
        {
          on: ['end'],
          to: {
            webhook: {
              url: 'https://hooks.example.com:8443/x?token=a@b#frag',
              secret: 's',
              headers: { 'X-Team': 'ops' },
              timeout: '5s',
            },
          },
        },
        { on: ['success'], to: { email: { to: ['ops@example.com'], subject: '[etl]' } } },
      ]),
    ).toEqual([]);
  });

  it.each<[unknown, string]>([
    [
      [{ on: ['fail'], to: 'ops' }],
      'notifications[0].on[0]: must be one of "start", "success", "failure"',
    ],
    [
      [{ on: ['failure'], to: 'Ops Team' }],
      "notifications[0].to: must be a DNS name (lowercase letters, digits, '-' and '.')",
    ],
    [[{ on: ['failure'], to: { webhok: {} } }], 'notifications[0].to: unknown field "webhok"'],
    [[{ on: ['failure'], to: { webhook: {} } }], 'notifications[0].to.webhook.url: is required'],
    [
      [{ on: ['failure'], to: { webhook: { url: 'ftp://x' } } }],
      'notifications[0].to.webhook.url: must be an http:// or https:// URL without a user name or password',
    ],
    [
      [{ on: ['failure'], to: { webhook: { url: 'https://user:pw@hooks.example.com/x' } } }],
      'notifications[0].to.webhook.url: must be an http:// or https:// URL without a user name or password',
    ],
    [
      [{ on: ['failure'], to: { webhook: { url: 'http://hooks.example.com\\@10.0.0.1/' } } }],
      'notifications[0].to.webhook.url: must be an http:// or https:// URL without',
    ],
    [
      [
        {
          on: ['failure'],
          to: { webhook: { url: 'http://x', headers: { 'X-A': 'a\r\nHost: b' } } },
        },
      ],
      'notifications[0].to.webhook.headers.X-A: must not contain a line break (CR, LF) or a NUL',
    ],
    [
      [{ on: ['failure'], to: { webhook: { url: 'http://x', headers: { 'X-A': 'a\nb' } } } }],
      'notifications[0].to.webhook.headers.X-A: must not contain a line break',
    ],
    [
      [{ on: ['failure'], to: { webhook: { url: 'http://x', timeout: 'soon' } } }],
      'notifications[0].to.webhook.timeout: must be a duration',
    ],
    [
      [{ on: ['failure'], to: { email: { to: ['nobody'] } } }],
      'notifications[0].to.email.to[0]: has an invalid format',
    ],
    [
      [{ on: ['failure'], to: { email: { to: ['a@b.c'] }, webhook: { url: 'http://x' } } }],
      'notifications[0].to: must have at most 1 entry',
    ],
    [[{ to: 'ops' }], 'notifications[0].on: is required'],
    [[{ on: ['failure'], to: 'ops', when: 'now' }], 'notifications[0]: unknown field "when"'],
    ['ops', 'notifications: must be an array'],
  ])('%j → %s', (notifications, message) => {
    expect(errors(notifications).some((e) => e.startsWith(message))).toBe(true);
  });
});
