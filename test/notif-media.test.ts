/**
 * notif's Slack, e-mail and log media against real peers: an HTTP server in Slack's place whose
 * payloads are checked against Slack's documented incoming-webhook format, and a real SMTP server
 * (smtp-server, STARTTLS and authentication) whose messages are parsed with mailparser.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifService } from '../src/services/notif/service.ts';
import { submit, waitForEnd } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import {
  eventually,
  listNotifications,
  startReceiver,
  startTestNotif,
  type Receiver,
} from './notif-peers.ts';
import { slackProblems, type Json } from './notif-slack-format.ts';

const SLACK_PATH = '/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const SMTP_PASS = 'smtp-password-from-env';

let redis: TestRedis;
let api: Harness;
let slack: Receiver;
let smtp: SMTPServer;
let notif: NotifService;
const logLines: string[] = [];
const mails: { secure: boolean; user?: string; mail: ParsedMail }[] = [];

beforeAll(async () => {
  redis = await startRedis();
  api = await startInProcess(redis.url);
  slack = await startReceiver();
  slack.on('/services/gone', () => ({ status: 404, body: 'no_service' }));
  smtp = new SMTPServer({
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'chainr' && auth.password === SMTP_PASS)
        callback(null, { user: 'chainr' });
      else callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, callback) {
      if (!address.address.startsWith('nobody@')) return callback();
      callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          const user: unknown = session.user;
          mails.push({
            secure: session.secure,
            user: typeof user === 'string' ? user : undefined,
            mail,
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((done) => smtp.listen(0, '127.0.0.1', done));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  notif = await startTestNotif(
    redis.url,
    api.prefix,
    `
timeout: 5s
retry: { attempts: 2, delay: 100ms }
smtp:
  host: 127.0.0.1
  port: ${smtpPort}
  requireTLS: true
  rejectUnauthorized: false   # smtp-server's own self-signed certificate
  user: chainr
  password: { env: SMTP_PASS }
  from: chainr <chainr@example.com>
media:
  team-slack:
    slack: { url: { env: SLACK_URL } }
  gone-slack:
    slack: { url: "${slack.url}/services/gone" }
  oncall:
    email: { to: [oncall@example.com, lead@example.com] }
`,
    {
      env: { SMTP_PASS, SLACK_URL: `${slack.url}${SLACK_PATH}` },
      logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
    },
  );
});

afterAll(async () => {
  await notif.close();
  await slack.close();
  await new Promise<void>((done) => smtp.close(done));
  await api.stop();
  await redis.stop();
});

describe('slack', () => {
  it('posts messages in Slack incoming-webhook format, coloured by status, with the failing job and a link', async () => {
    const run = await submit(api.url, {
      kind: 'Pipeline',
      metadata: { name: 'etl & <reports>' },
      jobs: { extract: { image: 'busybox', run: 'exit 2' } },
      notifications: [
        { on: ['start', 'failure'], to: 'team-slack' },
        { on: ['failure'], to: 'gone-slack' },
      ],
    });
    await waitForEnd(api.url, run.metadata.uid);
    const posts = await eventually('two Slack messages', () => {
      const got = slack.received.filter(
        (r) => r.path === SLACK_PATH && JSON.stringify(r.json).includes(run.metadata.uid),
      );
      return got.length === 2 && got;
    });
    for (const p of posts) {
      expect(slackProblems(p.json)).toEqual([]);
      expect(p.headers['content-type']).toBe('application/json');
    }
    const [start, failure] = [...posts].sort((a) =>
      String(a.json.text).includes('started') ? -1 : 1,
    );
    expect(start?.json.text).toBe(':arrow_forward: Run of etl &amp; &lt;reports&gt; started');
    expect((start?.json.attachments as Json[])[0]?.color).toBe('#36c5f0');
    const attachment = (failure?.json.attachments as Json[])[0] as Json;
    expect(attachment.color).toBe('#e01e5a');
    const blocks = JSON.stringify(attachment.blocks);
    expect(blocks).toContain('*Pipeline*\\netl &amp; &lt;reports&gt;');
    expect(blocks).toContain('`extract`: exit code 2');
    expect(blocks).toContain(
      `<https://chainr.example.com/runs/${run.metadata.uid}|${run.metadata.uid}>`,
    );
    expect(failure?.json.text).toBe(
      ':x: Run of etl &amp; &lt;reports&gt; failed: job "extract" failed',
    );

    const gone = await eventually('the refused Slack delivery', async () =>
      (await listNotifications(api.url, '?status=failed')).items.find(
        (i) => i.medium === 'gone-slack',
      ),
    );
    expect(gone).toMatchObject({
      attempts: 1,
      lastError: 'Slack "gone-slack" answered HTTP 404 no_service',
    });
  });
});

describe('email', () => {
  it('sends plain-text and HTML e-mail over SMTP with STARTTLS and authentication', async () => {
    const run = await submit(api.url, {
      kind: 'Pipeline',
      metadata: { name: 'billing' },
      jobs: { charge: { image: 'busybox', run: 'exit 1' } },
      notifications: [
        { on: ['failure'], to: 'oncall' },
        { on: ['failure'], to: { email: { to: ['dev@example.com'], subject: '[billing]' } } },
        { on: ['failure'], to: { email: { to: ['nobody@example.com'] } } },
      ],
    });
    await waitForEnd(api.url, run.metadata.uid);
    const got = await eventually('two e-mails', () => {
      const m = mails.filter((x) => x.mail.text?.includes(run.metadata.uid));
      return m.length === 2 && m;
    });
    for (const { secure, user } of got)
      expect({ secure, user }).toEqual({ secure: true, user: 'chainr' });
    const oncall = got.find((m) => m.mail.subject?.startsWith('[chainr]'))?.mail as ParsedMail;
    expect(oncall.subject).toBe('[chainr] Run of billing failed: job "charge" failed');
    expect(oncall.from?.value).toEqual([{ name: 'chainr', address: 'chainr@example.com' }]);
    const to = Array.isArray(oncall.to) ? oncall.to : [oncall.to];
    expect(to.flatMap((a) => a?.value.map((v) => v.address))).toEqual([
      'oncall@example.com',
      'lead@example.com',
    ]);
    expect(oncall.text).toContain(
      `Pipeline: billing\nRun:      ${run.metadata.uid}\nStatus:   FAILED`,
    );
    expect(oncall.text).toContain('Failed jobs:\n  - charge: exit code 1');
    expect(oncall.text).toContain(
      `View the run: https://chainr.example.com/runs/${run.metadata.uid}`,
    );
    expect(oncall.html).toContain('Run of billing failed: job &quot;charge&quot; failed</h2>');
    expect(oncall.html).toContain(
      `<a href="https://chainr.example.com/runs/${run.metadata.uid}">View the run</a>`,
    );
    const key = oncall.headers.get('x-chainr-idempotency-key') as string;
    expect(key).toMatch(/^[0-9]+-[0-9]+\/0\/oncall$/);
    expect(oncall.messageId).toMatch(/^<[0-9a-f]{40}@chainr\.notif>$/);

    const inline = got.find((m) => m.mail.subject?.startsWith('[billing]'))?.mail as ParsedMail;
    expect(inline.subject).toBe('[billing] Run of billing failed: job "charge" failed');
    expect(inline.headers.get('x-chainr-idempotency-key')).toMatch(/\/1\/email$/);

    // The server refusing the recipient (550) is final: recorded as failed, not retried.
    const refused = await eventually('the refused e-mail', async () =>
      (await listNotifications(api.url, '?status=failed')).items.find(
        (i) => i.run.uid === run.metadata.uid && i.mediumType === 'email',
      ),
    );
    expect(refused.attempts).toBe(1);
    expect(refused.lastError).toMatch(/^SMTP EENVELOPE: 550 /);
  });
});

describe('log', () => {
  it('logs one structured line per notification, and no secret anywhere in the log', async () => {
    const run = await submit(api.url, {
      kind: 'Pipeline',
      metadata: { name: 'audit' },
      jobs: { a: { image: 'busybox', run: 'true', executor: 'noop' } },
      notifications: [{ on: ['success'], to: 'log' }],
    });
    await waitForEnd(api.url, run.metadata.uid);
    const line = await eventually('the log line', () =>
      logLines.map((l) => JSON.parse(l) as Json).find((l) => l.msg === 'Run of audit succeeded'),
    );
    expect(line.notification).toMatchObject({
      event: 'success',
      run: { uid: run.metadata.uid, name: 'audit' },
    });
    const all = logLines.join('');
    for (const secret of [SMTP_PASS, SLACK_PATH, 'XXXXXXXXXXXXXXXX'])
      expect(all).not.toContain(secret);
  });
});
