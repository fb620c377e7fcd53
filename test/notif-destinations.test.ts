/**
 * Where notif may deliver a webhook written in a pipeline (anyone who may submit a run writes
 * one): not to loopback, private or link-local addresses unless the deployment allows them,
 * checked on the address a name resolves to; redirects not followed; records that do not tell
 * a closed port from a silent one. And the Standard Webhooks signature, verified with the
 * `standardwebhooks` package as a receiver would.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
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
  type NotificationList,
  type Receiver,
  type Received,
} from './notif-peers.ts';

/** A notif with its API and its log lines, on its own key prefix of the shared Redis. */
interface Deployment {
  api: Harness;
  notif: NotifService;
  log: Record<string, unknown>[];
}

let redis: TestRedis;
let receiver: Receiver;
/** Pipeline-defined webhooks at their default policy. */
let strict: Deployment;
/** The same with loopback allowed (`inline.allow`). */
let allowing: Deployment;

async function deploy(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Deployment> {
  const api = await startInProcess(redis.url);
  const log: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => log.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const notif = await startTestNotif(redis.url, api.prefix, yaml, { logger, env });
  return { api, notif, log };
}

const RAW_SECRET = 'a-secret-written-in-the-pipeline';
// The Standard Webhooks form of a secret: `whsec_` and base64 bytes.
const STANDARD_SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

beforeAll(async () => {
  redis = await startRedis();
  receiver = await startReceiver();
  strict = await deploy(
    `
retry: { attempts: 2, delay: 100ms }
media:
  ops: { webhook: { url: "${receiver.url}/named", secret: { env: HOOK_SECRET } } }
`,
    { HOOK_SECRET: STANDARD_SECRET },
  );
  allowing = await deploy(`
timeout: 1s
retry: { attempts: 1 }
inline: { allow: [127.0.0.1/32, "::1"] }
`);
});

afterAll(async () => {
  await receiver.close();
  for (const d of [strict, allowing]) {
    await d?.notif.close();
    await d?.api.stop();
  }
  await redis.stop();
});

const webhook = (url: string, extra: Record<string, unknown> = {}) => ({
  on: ['success'],
  to: { webhook: { url, ...extra } },
});

/** Runs a one-job pipeline with these notifications; resolves with its uid once it ended. */
async function runNotifying(d: Deployment, notifications: unknown[]): Promise<string> {
  const run = await submit(d.api.url, {
    kind: 'Pipeline',
    jobs: { a: { image: 'busybox', run: 'true', executor: 'noop' } },
    notifications,
  });
  await waitForEnd(d.api.url, run.metadata.uid);
  return run.metadata.uid;
}

/** The run's delivery records once `count` of them are final (delivered or failed). */
async function finalRecords(d: Deployment, uid: string, count: number) {
  return eventually(`${count} final deliveries of ${uid}`, async () => {
    const list = await listNotifications(d.api.url, '?limit=500');
    const mine = list.items.filter(
      (i) => i.run.uid === uid && (i.status === 'delivered' || i.status === 'failed'),
    );
    return mine.length === count && mine;
  });
}

const ofRun = (uid: string, path: string): Received[] =>
  receiver.received.filter(
    (r) => r.path === path && (r.json.run as { uid?: string } | undefined)?.uid === uid,
  );

/** A port nothing listens on (one just released). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

type Item = NotificationList['items'][number];
const byRule = (items: Item[]) =>
  Object.fromEntries(items.map((i) => [i.metadata.uid.split('/')[1] as string, i]));

describe('a webhook written in a pipeline, at the default policy', () => {
  it('reaches no loopback, private or link-local address, by literal or by a name resolving to one', async () => {
    const port = new URL(receiver.url).port;
    const uid = await runNotifying(strict, [
      webhook(`${receiver.url}/literal`),
      webhook(`http://localhost:${port}/by-name`),
      webhook(`http://[::ffff:127.0.0.1]:${port}/mapped`),
      webhook('http://10.1.2.3:6379/private'),
      webhook('http://169.254.169.254/latest/meta-data/'),
      // Not refused by the policy: a deployment's named medium on the same receiver.
      { on: ['success'], to: 'ops' },
    ]);
    const records = byRule(await finalRecords(strict, uid, 6));
    for (const rule of ['0', '1', '2', '3', '4']) {
      expect(records[rule]).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastError:
          'webhook "webhook": its address is not allowed for webhooks defined in pipelines',
      });
    }
    expect(records['5']).toMatchObject({ status: 'delivered', medium: 'ops' });
    for (const path of ['/literal', '/by-name', '/mapped']) expect(ofRun(uid, path)).toEqual([]);
    expect(ofRun(uid, '/named')).toHaveLength(1);
    // The operator's log says which address was refused.
    const details = strict.log.map((l) => String(l.detail));
    expect(details.some((d) => /^localhost resolves to (127\.0\.0\.1|::1),/.test(d))).toBe(true);
    expect(details).toContain(
      '169.254.169.254 may not be reached by webhooks defined in pipelines',
    );
  });
});

describe('a webhook written in a pipeline, with loopback allowed', () => {
  it('is delivered, signed both ways; the Standard Webhooks signature verifies with the package', async () => {
    const port = new URL(receiver.url).port;
    const uid = await runNotifying(allowing, [
      webhook(`${receiver.url}/raw`, { secret: RAW_SECRET }),
      webhook(`http://localhost:${port}/standard`, { secret: STANDARD_SECRET }),
    ]);
    const records = byRule(await finalRecords(allowing, uid, 2));
    expect(records['0']).toMatchObject({ status: 'delivered' });
    expect(records['1']).toMatchObject({ status: 'delivered' });
    const [raw] = ofRun(uid, '/raw');
    const [standard] = ofRun(uid, '/standard');
    const headersOf = (r: Received) => r.headers as Record<string, string>;
    // A secret of any form is the key's bytes as they are (the package's `raw` format) ...
    expect(new Webhook(RAW_SECRET, { format: 'raw' }).verify(raw!.body, headersOf(raw!))).toEqual(
      raw!.json,
    );
    // ... and one in the scheme's own `whsec_` form is used as the package expects it.
    expect(new Webhook(STANDARD_SECRET).verify(standard!.body, headersOf(standard!))).toEqual(
      standard!.json,
    );
    expect(standard!.headers['webhook-id']).toBe(standard!.json.id);
    // The signature covers the timestamp: the same request is refused with any other one.
    const replayed = {
      ...headersOf(standard!),
      'webhook-timestamp': String((Date.now() / 1000 - 3600) | 0),
    };
    expect(() => new Webhook(STANDARD_SECRET).verify(standard!.body, replayed)).toThrow();
    // The wrong key does not verify.
    expect(() => new Webhook(STANDARD_SECRET).verify(raw!.body, headersOf(raw!))).toThrow();
  });

  it('does not follow a redirect, and records a closed port and a silent one in the same words', async () => {
    receiver.on('/redirect', () => ({ status: 302, headers: { location: '/elsewhere' } }));
    receiver.on('/silent', () => 'hang');
    const closed = await closedPort();
    const uid = await runNotifying(allowing, [
      webhook(`${receiver.url}/redirect`),
      webhook(`http://127.0.0.1:${closed}/closed`),
      webhook(`${receiver.url}/silent`),
    ]);
    const records = byRule(await finalRecords(allowing, uid, 3));
    expect(records['0']).toMatchObject({
      status: 'failed',
      lastError: 'webhook "webhook" answered HTTP 302',
    });
    expect(ofRun(uid, '/elsewhere')).toEqual([]);
    const generic = 'webhook "webhook": not delivered (no connection, or no answer within 1000 ms)';
    expect(records['1']).toMatchObject({ status: 'failed', lastError: generic });
    expect(records['2']).toMatchObject({ status: 'failed', lastError: generic });
    // What happened goes to the operator's log only.
    const details = allowing.log.map((l) => l.detail);
    expect(details).toContain('connection failed (ECONNREFUSED)');
    expect(details).toContain('no answer within 1000 ms');
  });
});

describe('submission of a webhook', () => {
  it('refuses header values with line breaks and URLs with credentials, naming the path', async () => {
    const res = await fetch(`${strict.api.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'Pipeline',
        jobs: { a: { image: 'busybox', run: 'true' } },
        notifications: [
          webhook('http://user:password@hooks.example.com/x'),
          webhook('https://hooks.example.com/x', { headers: { 'X-Team': 'ops\r\nX-Forged: 1' } }),
        ],
      }),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('notifications[0].to.webhook.url');
    expect(text).toContain('without a user name or password');
    expect(text).toContain('notifications[1].to.webhook.headers.X-Team');
    expect(text).toContain('must not contain a line break');
  });
});

// A peer that is not HTTP at all (Redis's port, say) is as closed as any other to a viewer.
describe('a peer that is not an HTTP server', () => {
  it('is recorded in the generic words too', async () => {
    const server = createServer();
    server.on('connection', (socket) => socket.end('-ERR unknown command\r\n'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    try {
      const uid = await runNotifying(allowing, [webhook(`http://127.0.0.1:${port}/`)]);
      const [record] = await finalRecords(allowing, uid, 1);
      expect(record?.lastError).toBe(
        'webhook "webhook": not delivered (no connection, or no answer within 1000 ms)',
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});
