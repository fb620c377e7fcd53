/**
 * Records in Redis that cannot be read back (written by hand, by a broken writer, or damaged):
 * a list answers the others and leaves each such record out, logging it and counting it in
 * chainr_corrupt_records_total; reading one alone says which field is wrong.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { submit } from './fixtures/api.ts';
import { startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';
import { makeKeys } from '../src/store/keys.ts';
import { notificationKeys, type DeliveryRecord } from '../src/store/notifications.ts';

const PREFIX = 'corrupt:';
const keys = makeKeys(PREFIX);
let redis: TestRedis;
let client: Redis;
let sched: ChainrProcess & { url: string };

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  sched = await startHttpService('sched', {
    REDIS_URL: redis.url,
    CHAINR_PREFIX: PREFIX,
    CHAINR_KUBERNETES: '0',
    CHAINR_CONTAINER: '0',
  });
});
afterAll(async () => {
  await sched?.kill('SIGKILL');
  await redis?.stop();
});

const get = async (path: string) => {
  const res = await fetch(`${sched.url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function corruptCount(kind: string): Promise<number> {
  const text = await (await fetch(`${sched.url}/metrics`)).text();
  const line = new RegExp(`^chainr_corrupt_records_total\\{kind="${kind}"\\} (\\d+)$`, 'm');
  return Number(line.exec(text)?.[1] ?? 0);
}

const pipeline = { kind: 'Pipeline', jobs: { a: { image: 'alpine', run: 'true' } } };

it.each([
  ['labels', 'not JSON {', 'labels: not JSON'],
  ['params', '["a"]', 'params: not an object of strings'],
  ['a.attempts', '{"attempt":', 'a.attempts: not JSON'],
  ['a.attempts', '[{"attempt":"one","status":"FAILED"}]', 'a.attempts: not a list of attempts'],
  ['a.started', 'yesterday', 'a.started: not a time in ms ("yesterday")'],
  ['status', 'LOST', 'status: "LOST"'],
])(
  'lists the other runs when one has %s = %j, and logs and counts it',
  async (field, value, problem) => {
    const before = (await submit(sched.url, pipeline)).metadata.uid;
    const broken = (await submit(sched.url, pipeline)).metadata.uid;
    const after = (await submit(sched.url, pipeline)).metadata.uid;
    const counted = await corruptCount('run');
    await client.hset(keys.run(broken), field, value);

    const list = await get('/api/runs?limit=500');
    expect(list.status).toBe(200);
    const uids = (list.body.items as { metadata: { uid: string } }[]).map((r) => r.metadata.uid);
    expect(uids).toEqual(expect.arrayContaining([before, after]));
    expect(uids).not.toContain(broken);
    expect(await corruptCount('run')).toBeGreaterThan(counted);
    const logged = await until(
      () =>
        sched
          .output()
          .split('\n')
          .find((l) => l.includes(broken)),
      'the log line naming the record',
    );
    expect(JSON.parse(logged)).toMatchObject({
      msg: 'skipped a run record that cannot be read',
      kind: 'run',
      id: broken,
      problem,
    });

    const alone = await get(`/api/runs/${broken}`);
    expect(alone).toEqual({
      status: 500,
      body: {
        kind: 'Error',
        error: `the run record ${broken} in Redis cannot be read (${problem})`,
      },
    });
  },
);

function delivery(key: string): DeliveryRecord {
  return {
    key,
    eventId: key.split('/')[0] as string,
    event: 'end',
    uid: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    rule: '0',
    medium: 'webhook',
    mediumType: 'webhook',
    inline: true,
    status: 'delivered',
    attempts: 1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
  };
}

it('lists the other deliveries when one record is not JSON or not a delivery', async () => {
  const n = notificationKeys(PREFIX);
  const good = ['1-0/0/webhook', '4-0/0/webhook'];
  const bad: [string, string][] = [
    ['2-0/0/webhook', '{"key":'],
    ['3-0/0/webhook', JSON.stringify({ ...delivery('3-0/0/webhook'), createdAt: 'soon' })],
  ];
  for (const key of good) await client.hset(n.records, key, JSON.stringify(delivery(key)));
  for (const [key, value] of bad) await client.hset(n.records, key, value);
  for (const key of [...good, ...bad.map(([k]) => k)]) await client.zadd(n.index, 0, key);
  const counted = await corruptCount('delivery');

  const list = await get('/api/notifications');
  expect(list.status).toBe(200);
  const items = list.body.items as { metadata: { uid: string } }[];
  expect(items.map((i) => i.metadata.uid)).toEqual(['4-0/0/webhook', '1-0/0/webhook']);
  expect(await corruptCount('delivery')).toBe(counted + 2);
  for (const [key, problem] of [
    ['2-0/0/webhook', 'record: not JSON'],
    ['3-0/0/webhook', 'not a delivery record'],
  ])
    expect(sched.output()).toContain(`"id":"${key}","problem":"${problem}"`);
});

it('lists the other instances when one record is not JSON or not an instance', async () => {
  // sched's own instance, registered by its heartbeat.
  await until(async () => (await get('/api/instances')).body.counts, 'sched to register');
  const expires = Date.now() + 60_000;
  const bad: [string, string][] = [
    ['broken-1', 'not json'],
    ['broken-2', JSON.stringify({ service: 'work', id: 'broken-2', startedAt: 'now' })],
  ];
  for (const [id, value] of bad) {
    await client.set(keys.instance(id), value, 'PX', 60_000);
    await client.zadd(keys.instances, expires, id);
  }
  const counted = await corruptCount('instance');

  const list = await get('/api/instances');
  expect(list.status).toBe(200);
  expect(list.body.counts).toEqual({ sched: 1 });
  expect((list.body.items as { service: string }[]).map((i) => i.service)).toEqual(['sched']);
  expect(await corruptCount('instance')).toBeGreaterThan(counted);
  for (const [id, problem] of [
    ['broken-1', 'record: not JSON'],
    ['broken-2', 'not an instance record'],
  ])
    expect(sched.output()).toContain(`"id":"${id}","problem":"${problem}"`);
});
