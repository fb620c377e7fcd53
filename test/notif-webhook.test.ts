/**
 * notif delivering webhooks to a real HTTP server: signed, retried with backoff after 500s,
 * given up on and shown at GET /api/notifications?status=failed, never blocked by a slow receiver.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
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
  type Received,
} from './notif-peers.ts';

const HOOK_SECRET = 'hook-secret-from-the-environment';
const DOWN_SECRET = 'down-secret-literal';

let redis: TestRedis;
let api: Harness;
let receiver: Receiver;
let notif: NotifService;

beforeAll(async () => {
  redis = await startRedis();
  api = await startInProcess(redis.url);
  receiver = await startReceiver();
  notif = await startTestNotif(
    redis.url,
    api.prefix,
    `
timeout: 1500ms
retry: { attempts: 3, delay: 100ms, maxDelay: 1s }
claim: { idle: 10s, interval: 1s }
# The receiver listens on loopback, which webhooks written in pipelines may not reach by default.
inline: { allow: [127.0.0.1] }
media:
  hook:
    webhook:
      url: ${receiver.url}/hook
      secret: { env: HOOK_SECRET }
      headers: { X-Team: ops }
  down:
    webhook: { url: "${receiver.url}/down", secret: ${DOWN_SECRET} }
  gone:
    webhook: { url: "${receiver.url}/gone" }
  slow:
    webhook: { url: "${receiver.url}/slow", timeout: 10s }
`,
    { env: { HOOK_SECRET } },
  );
});

afterAll(async () => {
  await receiver.close(); // first: a request it holds open would hold up notif's shutdown
  await notif.close();
  await api.stop();
  await redis.stop();
});

/** Verifies `X-Chainr-Signature: sha256=<hex>` over the raw body, as a receiver should. */
function verified(r: Received, secret: string): boolean {
  const header = r.headers['x-chainr-signature'];
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(r.body).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const ofRun = (uid: string, path: string) =>
  receiver.received.filter(
    (r) => r.path === path && (r.json.run as { uid?: string } | undefined)?.uid === uid,
  );

describe('webhook', () => {
  it('delivers a signed notification, retrying with backoff after the receiver answers 500 twice', async () => {
    receiver.on('/hook', (_r, nth) => (nth <= 2 ? 500 : 200));
    const run = await submit(api.url, {
      kind: 'Pipeline',
      metadata: { name: 'nightly-etl', labels: { team: 'data' } },
      jobs: { load: { image: 'busybox', run: 'exit 3' } },
      notifications: [{ on: ['failure'], to: 'hook' }],
    });
    await waitForEnd(api.url, run.metadata.uid);
    const requests = await eventually('three attempts', () => {
      const got = ofRun(run.metadata.uid, '/hook');
      return got.length >= 3 && got;
    });
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      expect(verified(r, HOOK_SECRET)).toBe(true);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-team']).toBe('ops');
      expect(r.headers['x-chainr-event']).toBe('failure');
    }
    const keys = new Set(requests.map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    const [key] = [...keys];
    expect(key).toMatch(/^[0-9]+-[0-9]+\/0\/hook$/);
    expect(requests[0]?.json).toMatchObject({
      kind: 'Notification',
      id: key,
      event: 'failure',
      status: 'FAILED',
      reason: 'job "load" failed',
      summary: 'Run of nightly-etl failed: job "load" failed',
      run: {
        uid: run.metadata.uid,
        name: 'nightly-etl',
        labels: { team: 'data' },
        link: `https://chainr.example.com/runs/${run.metadata.uid}`,
        selfLink: `/api/runs/${run.metadata.uid}`,
      },
      failedJobs: [{ name: 'load', reason: 'exit code 3' }],
    });
    const delivered = await eventually('the delivered record', async () => {
      const list = await listNotifications(api.url, '?status=delivered');
      return list.items.find((i) => i.metadata.uid === key);
    });
    expect(delivered).toMatchObject({
      event: 'failure',
      run: { uid: run.metadata.uid, name: 'nightly-etl' },
      medium: 'hook',
      mediumType: 'webhook',
      status: 'delivered',
      attempts: 3,
    });
  });

  it('gives up after the last attempt and shows the failure at GET /api/notifications?status=failed', async () => {
    receiver.on('/down', () => 503);
    receiver.on('/gone', () => 410);
    const run = await submit(api.url, {
      kind: 'Pipeline',
      metadata: { name: 'deploy' },
      jobs: { a: { image: 'busybox', run: 'true' } },
      notifications: [
        { on: ['success'], to: 'down' },
        { on: ['end'], to: 'gone' },
        { on: ['success'], to: 'nope' },
      ],
    });
    await waitForEnd(api.url, run.metadata.uid);
    const failed = await eventually('three failed deliveries', async () => {
      const list = await listNotifications(api.url, '?status=failed');
      const mine = list.items.filter((i) => i.run.uid === run.metadata.uid);
      return mine.length === 3 && mine;
    });
    const byMedium = Object.fromEntries(failed.map((i) => [i.medium, i]));
    // 503 is retried up to the last attempt; 410 refuses the notification itself: not retried.
    expect(byMedium.down).toMatchObject({
      attempts: 3,
      lastError: 'webhook "down" answered HTTP 503',
    });
    expect(byMedium.gone).toMatchObject({
      attempts: 1,
      lastError: 'webhook "gone" answered HTTP 410',
    });
    expect(byMedium.nope).toMatchObject({
      attempts: 1,
      mediumType: 'unknown',
      lastError:
        'no medium named "nope" in the notif configuration (configured: log, hook, down, gone, slow)',
    });
    expect(ofRun(run.metadata.uid, '/down')).toHaveLength(3);
    expect(ofRun(run.metadata.uid, '/gone')).toHaveLength(1);
    expect(verified(ofRun(run.metadata.uid, '/down')[0] as Received, DOWN_SECRET)).toBe(true);
    // Nothing of the configuration leaks through the API.
    const everything = JSON.stringify(await listNotifications(api.url, '?limit=500'));
    for (const secret of [HOOK_SECRET, DOWN_SECRET, receiver.url])
      expect(everything).not.toContain(secret);
  });

  it('sends job events to a webhook defined in the pipeline, a retry with its attempt and reason', async () => {
    const run = await submit(api.url, {
      kind: 'Pipeline',
      jobs: {
        flaky: {
          image: 'busybox',
          run: 'exit 1',
          retries: { limit: 1, backoff: { delay: '10ms' } },
        },
      },
      notifications: [
        {
          on: ['job-retry', 'job-failure'],
          to: { webhook: { url: `${receiver.url}/inline`, secret: 'inline-secret' } },
        },
      ],
    });
    await waitForEnd(api.url, run.metadata.uid);
    const got = await eventually('two job notifications', () => {
      const r = ofRun(run.metadata.uid, '/inline');
      return r.length === 2 && r;
    });
    const byEvent = Object.fromEntries(got.map((r) => [r.json.event as string, r]));
    expect(byEvent['job-retry']?.json).toMatchObject({
      status: 'PENDING',
      reason: 'attempt 1 failed (exit code 1); retry 1 of 1 in 10ms',
      job: { name: 'flaky', attempt: 2 },
      summary: `Job "flaky" of run ${run.metadata.uid} will be retried (attempt 2): attempt 1 failed (exit code 1); retry 1 of 1 in 10ms`,
    });
    expect(byEvent['job-failure']?.json).toMatchObject({
      status: 'FAILED',
      job: { name: 'flaky', attempt: 2 },
    });
    for (const r of got) {
      expect(verified(r, 'inline-secret')).toBe(true);
      expect(r.headers['idempotency-key']).toMatch(/\/0\/webhook$/);
    }
  });

  it('keeps delivering other runs while a receiver does not answer', async () => {
    receiver.on('/slow', () => 'hang');
    receiver.on('/hook', () => 200);
    const slow = await submit(api.url, {
      kind: 'Pipeline',
      jobs: { a: { image: 'busybox', run: 'true', executor: 'noop' } },
      notifications: [{ on: ['success'], to: 'slow' }],
    });
    await eventually('the hanging request', () => ofRun(slow.metadata.uid, '/slow').length === 1);
    const started = Date.now();
    const fast = await submit(api.url, {
      kind: 'Pipeline',
      jobs: { a: { image: 'busybox', run: 'true', executor: 'noop' } },
      notifications: [{ on: ['success'], to: 'hook' }],
    });
    await eventually(
      'the other run notified',
      () => ofRun(fast.metadata.uid, '/hook').length === 1,
    );
    // Well before the hanging request's 10 s timeout.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('pages GET /api/notifications and refuses what it does not understand', async () => {
    const all = await listNotifications(api.url, '?limit=500');
    expect(all.items.length).toBeGreaterThan(2);
    const first = (await (await fetch(`${api.url}/api/notifications?limit=2`)).json()) as {
      metadata: { continue?: string };
      items: { metadata: { uid: string } }[];
    };
    expect(first.items.map((i) => i.metadata.uid)).toEqual(
      all.items.slice(0, 2).map((i) => i.metadata.uid),
    );
    const token = encodeURIComponent(first.metadata.continue ?? '');
    const next = await listNotifications(api.url, `?limit=2&continue=${token}`);
    expect(next.items.map((i) => i.metadata.uid)).toEqual(
      all.items.slice(2, 4).map((i) => i.metadata.uid),
    );
    for (const query of ['?status=lost', '?continue=bm9wZQ', '?limit=0']) {
      const res = await fetch(`${api.url}/api/notifications${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { kind: string }).kind).toBe('Error');
    }
    const post = await fetch(`${api.url}/api/notifications`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
