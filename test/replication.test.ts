/**
 * A run is acknowledged only once its writes are on a replica (CHAINR_WAIT_REPLICAS): with the
 * replica stopped (SIGSTOP), POST /api/runs does not answer 202; it answers 202 once the replica
 * resumes and holds the run, and 503 naming the run when no replica confirms in time.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';

let master: TestRedis;
let replica: TestRedis;
let sched: ChainrProcess & { url: string };

const pipeline = { kind: 'Pipeline', jobs: { only: { image: 'busybox', run: 'true' } } };
const post = () =>
  fetch(`${sched.url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(pipeline),
    signal: AbortSignal.timeout(30_000),
  });

beforeAll(async () => {
  master = await startRedis();
  replica = await startRedis({ replicaOf: master.port });
  await until(
    async () => /master_link_status:up/.test(await replica.client().info('replication')),
    'the replica to sync',
    30_000,
  );
  sched = await startHttpService('sched', {
    REDIS_URL: master.url,
    CHAINR_WAIT_REPLICAS: '1',
    CHAINR_WAIT_TIMEOUT: '3s',
    // The API's Redis commands (WAIT included) must be allowed longer than the wait itself.
    CHAINR_REDIS_TIMEOUT: '5s',
    CHAINR_KUBERNETES: '0',
    CHAINR_CONTAINER: '0',
  });
});
afterAll(async () => {
  replica.signal('SIGCONT');
  await sched?.kill('SIGKILL');
  await replica?.stop();
  await master?.stop();
});

it('answers 202 only once the replica holds the run', async () => {
  const onReplica = replica.client();
  replica.signal('SIGSTOP');
  let answered = false;
  const answer = post().then((res) => {
    answered = true;
    return res;
  });
  // The replica cannot confirm while stopped: no answer before the wait's timeout.
  await new Promise((r) => setTimeout(r, 1000));
  expect(answered).toBe(false);
  replica.signal('SIGCONT');
  const res = await answer;
  expect(res.status).toBe(202);
  const { metadata } = (await res.json()) as { metadata: { uid: string } };
  expect(await onReplica.hget(`chainr:run:${metadata.uid}`, 'status')).toBeTruthy();
});

it('answers 503 naming the run when no replica confirms within CHAINR_WAIT_TIMEOUT', async () => {
  replica.signal('SIGSTOP');
  try {
    const res = await post();
    expect(res.status).toBe(503);
    const body = (await res.json()) as { kind: string; error: string };
    expect(body.kind).toBe('Error');
    expect(body.error).toMatch(
      /^run [0-9a-f-]{36} was written to the Redis master but 0 of the 1 replica\(s\) required confirmed it within 3000 ms/,
    );
  } finally {
    replica.signal('SIGCONT');
  }
  // And accepts again once the replica is back.
  expect((await post()).status).toBe(202);
});

it('waits for one replica by default with Sentinel, for none with a single Redis, as configured', () => {
  const sentinel = { REDIS_ADDRS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_MASTER: 'chainr' };
  expect(loadConfig(sentinel).replication).toEqual({ replicas: 1, timeoutMs: 2000 });
  expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).replication.replicas).toBe(0);
  expect(loadConfig({}).replication.replicas).toBe(0);
  expect(
    loadConfig({ ...sentinel, CHAINR_WAIT_REPLICAS: '0', CHAINR_WAIT_TIMEOUT: '500ms' })
      .replication,
  ).toEqual({ replicas: 0, timeoutMs: 500 });
  expect(() => loadConfig({ CHAINR_WAIT_REPLICAS: 'one' })).toThrow(
    'CHAINR_WAIT_REPLICAS: expected an integer >= 0, got "one"',
  );
  expect(() => loadConfig({ CHAINR_WAIT_TIMEOUT: '0' })).toThrow(
    'CHAINR_WAIT_TIMEOUT: expected a duration above zero, such as "2s"',
  );
});
