/**
 * notif replicas and crashes: `chainr notif` SIGKILLed between receiving an event and
 * acknowledging it, the event delivered after a restart; two replicas delivering each event once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTIF_GROUP, type NotifService } from '../src/services/notif/service.ts';
import { submit, waitForEnd } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { spawnChainr, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import {
  eventually,
  listNotifications,
  startReceiver,
  startTestNotif,
  type Receiver,
} from './notif-peers.ts';

let redis: TestRedis;
let client: Redis;
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  receiver = await startReceiver();
  dir = mkdtempSync(join(tmpdir(), 'chainr-notif-test-'));
});

afterAll(async () => {
  await receiver.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const noopRun = (path: string, on: string[], jobs = 1) => ({
  kind: 'Pipeline',
  jobs: Object.fromEntries(
    Array.from({ length: jobs }, (_, i) => [
      `j${i}`,
      { image: 'busybox', run: 'true', executor: 'noop' },
    ]),
  ),
  notifications: [{ on, to: path }],
});

/** The count of events the group holds unacknowledged. */
async function pending(prefix: string): Promise<number> {
  const summary = (await client.xpending(`${prefix}events`, NOTIF_GROUP)) as [number, ...unknown[]];
  return summary[0];
}

describe('a notif killed mid-delivery', () => {
  let api: Harness;
  const processes: ChainrProcess[] = [];

  beforeAll(async () => {
    api = await startInProcess(redis.url);
  });
  afterAll(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    await api.stop();
  });

  it('leaves the event pending, and the next notif delivers it (with the same idempotency key)', async () => {
    const config = join(dir, 'notify.yaml');
    writeFileSync(
      config,
      `claim: { idle: 1s, interval: 500ms }
timeout: 30s
media:
  hook:
    webhook: { url: "${receiver.url}/crash", secret: { env: HOOK_SECRET } }
`,
    );
    const env = {
      REDIS_URL: redis.url,
      CHAINR_PREFIX: api.prefix,
      CHAINR_NOTIFY_CONFIG: config,
      HOOK_SECRET: 'crash-test-secret',
      LOG_LEVEL: 'info',
    };
    let arrived!: () => void;
    const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
    // The first delivery is held open until its notif is gone; the next one is accepted.
    receiver.on('/crash', (_r, nth) => {
      if (nth > 1) return 200;
      arrived();
      return 'hang';
    });

    const first = spawnChainr(['notif'], env);
    processes.push(first);
    await eventually(
      'the first notif to start',
      () => first.output().includes('notif started'),
      30_000,
    );
    const run = await submit(api.url, {
      ...noopRun('hook', ['success']),
      metadata: { name: 'crash' },
    });
    await waitForEnd(api.url, run.metadata.uid);
    await firstArrived;
    expect(await pending(api.prefix)).toBe(1);
    expect(await first.kill('SIGKILL')).toBeNull();
    expect(await pending(api.prefix)).toBe(1);

    const second = spawnChainr(['notif'], env);
    processes.push(second);
    const requests = await eventually(
      'the redelivery',
      () => {
        const got = receiver.received.filter((r) => r.path === '/crash');
        return got.length === 2 && got;
      },
      30_000,
    );
    const [a, b] = requests;
    expect(b?.headers['idempotency-key']).toBe(a?.headers['idempotency-key']);
    expect(b?.headers['x-chainr-signature']).toBe(a?.headers['x-chainr-signature']);
    expect(b?.json).toMatchObject({
      event: 'success',
      run: { uid: run.metadata.uid, name: 'crash' },
    });
    await eventually('the event acknowledged', async () => (await pending(api.prefix)) === 0);
    const record = await eventually('the delivery record', async () =>
      (await listNotifications(api.url, '?status=delivered')).items.find(
        (i) => i.run.uid === run.metadata.uid,
      ),
    );
    expect(record).toMatchObject({ medium: 'hook', attempts: 1 });
    expect(await second.kill('SIGTERM')).toBe(0);
  });
});

describe('two notif replicas', () => {
  let api: Harness;
  const replicas: NotifService[] = [];

  beforeAll(async () => {
    api = await startInProcess(redis.url);
    const yaml = `claim: { idle: 10s, interval: 1s }
media:
  count:
    webhook: { url: "${receiver.url}/count" }
`;
    for (const name of ['replica-a', 'replica-b'])
      replicas.push(await startTestNotif(redis.url, api.prefix, yaml, { consumer: name }));
  });
  afterAll(async () => {
    for (const r of replicas) await r.close();
    await api.stop();
  });

  it('deliver each event once', async () => {
    const runs = await Promise.all(
      Array.from({ length: 8 }, () =>
        submit(api.url, noopRun('count', ['start', 'success', 'job-success'], 2)),
      ),
    );
    for (const run of runs) await waitForEnd(api.url, run.metadata.uid);
    // Per run: start, success, and the success of each of its two jobs.
    const expected = runs.length * 4;
    await eventually(
      'every delivery',
      () => receiver.received.filter((r) => r.path === '/count').length >= expected,
    );
    await new Promise((r) => setTimeout(r, 1500)); // room for any duplicate to show up
    const keys = receiver.received
      .filter((r) => r.path === '/count')
      .map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(expected);
    expect(new Set(keys).size).toBe(expected);
    expect(await pending(api.prefix)).toBe(0);
    const consumers = (await client.xinfo(
      'CONSUMERS',
      `${api.prefix}events`,
      NOTIF_GROUP,
    )) as unknown[][];
    expect(consumers.map((c) => c[1]).sort()).toEqual(['replica-a', 'replica-b']);
  });
});
