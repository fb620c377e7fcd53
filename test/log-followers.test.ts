/**
 * Followed job logs share sched's Redis connections (one blocking reader fanned out), streams are
 * capped per client and in all, and no service ever logs the Redis password or a token, even when
 * Redis refuses its connections (ioredis errors carry the AUTH command and its argument).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { makeKeys } from '../src/store/keys.ts';
import { bearer, TOKENS, writeTokensFile } from './gate-fixtures.ts';
import { spawnChainr, startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';

const PASSWORD = 'redis-pass-7f3a9c1e5b';
const PREFIX = 'follow:';
const keys = makeKeys(PREFIX);
const pipeline = { kind: 'Pipeline', jobs: { a: { image: 'alpine', run: 'true' } } };

let redis: TestRedis;
let admin: Redis;
let tokensFile: string;
const processes: ChainrProcess[] = [];

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  admin = redis.client();
  tokensFile = writeTokensFile();
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await redis?.stop();
});

async function connectedClients(): Promise<number> {
  const info = await admin.info('clients');
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
}

async function submitRun(url: string): Promise<string> {
  const res = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(TOKENS.operator) },
    body: JSON.stringify(pipeline),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { metadata: { uid: string } }).metadata.uid;
}

interface Follower {
  status: number;
  /** Everything received so far. */
  text(): string;
  /** Resolves with the whole text once the answer ends. */
  ended: Promise<string>;
  body: string;
  close(): void;
}

async function follow(url: string, uid: string, token: string): Promise<Follower> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/runs/${uid}/jobs/a/logs?follow=true`, {
    headers: bearer(token),
    signal: abort.signal,
  });
  let text = '';
  const ended =
    res.status === 200 && res.body
      ? (async () => {
          const decoder = new TextDecoder();
          try {
            for await (const chunk of res.body as AsyncIterable<Uint8Array>)
              text += decoder.decode(chunk, { stream: true });
          } catch {
            // closed by the test
          }
          return text;
        })()
      : Promise.resolve('');
  const body = res.status === 200 ? '' : await res.text();
  return { status: res.status, text: () => text, ended, body, close: () => abort.abort() };
}

it('serves 50 followers on the connections of one, caps them per token (429) and in all (503), and ends them with the job', async () => {
  const sched = await startHttpService('sched', {
    REDIS_URL: redis.url,
    CHAINR_PREFIX: PREFIX,
    CHAINR_TOKENS_FILE: tokensFile,
    CHAINR_MAX_STREAMS: '50',
    CHAINR_MAX_STREAMS_PER_CLIENT: '30',
    CHAINR_EXECUTORS: 'noop',
    CHAINR_EXECUTOR: 'noop',
  });
  processes.push(sched);
  // No worker: the job stays PENDING, its log written here as a worker would.
  const uid = await submitRun(sched.url);
  const log = keys.log(uid, 'a');
  await admin.xadd(log, '*', 'o', 'before anyone followed');

  const first = await follow(sched.url, uid, TOKENS.operator);
  expect(first.status).toBe(200);
  await until(() => first.text().includes('before anyone followed'), 'the first follower');
  const withOne = await connectedClients();
  const followers = [first];
  for (let i = 1; i < 30; i++) followers.push(await follow(sched.url, uid, TOKENS.operator));
  for (let i = 0; i < 20; i++) followers.push(await follow(sched.url, uid, TOKENS.viewer));
  expect(followers.map((f) => f.status)).toEqual(followers.map(() => 200));
  await until(
    () => followers.every((f) => f.text().includes('before anyone followed')),
    'every follower to get the backlog',
  );
  const withFifty = await connectedClients();
  console.log(`Redis clients: ${withOne} with 1 follower, ${withFifty} with 50`);
  expect(withFifty).toBe(withOne);

  const overToken = await follow(sched.url, uid, TOKENS.operator);
  expect(overToken.status).toBe(429);
  expect(JSON.parse(overToken.body)).toEqual({
    kind: 'Error',
    error:
      'too many streams open for this client (30): close one (a followed log, an event stream) or retry later',
  });
  const overTotal = await follow(sched.url, uid, TOKENS.admin);
  expect(overTotal.status).toBe(503);
  expect(JSON.parse(overTotal.body)).toEqual({
    kind: 'Error',
    error: 'this server has 50 streams open, its limit: retry later or on another instance',
  });

  // A line written now reaches every follower; canceling the run ends every answer.
  await admin.xadd(log, '*', 'o', 'while followed');
  await until(
    () => followers.every((f) => f.text().includes('while followed')),
    'every follower to get the new line',
  );
  const canceled = await fetch(`${sched.url}/api/runs/${uid}/cancel`, {
    method: 'POST',
    headers: bearer(TOKENS.operator),
  });
  expect(canceled.status).toBe(202);
  const texts = await Promise.all(followers.map((f) => f.ended));
  expect(new Set(texts)).toEqual(new Set(['before anyone followed\nwhile followed\n']));

  // The streams closed, a token may follow again.
  const again = await follow(sched.url, uid, TOKENS.operator);
  expect(again.status).toBe(200);
  expect(await again.ended).toBe('before anyone followed\nwhile followed\n');
}, 120_000);

it('logs neither the Redis password nor a token, from any service, even when Redis refuses their connections', async () => {
  const env = {
    REDIS_URL: redis.url,
    CHAINR_PREFIX: 'redact:',
    CHAINR_TOKENS_FILE: tokensFile,
    CHAINR_EXECUTORS: 'noop',
    CHAINR_EXECUTOR: 'noop',
    CHAINR_RECYCLE_INTERVAL: '1s',
    CHAINR_HEARTBEAT_INTERVAL: '1s',
    LOG_LEVEL: 'debug',
  };
  const services = ['work', 'notif', 'recycle'].map((s) => spawnChainr([s], env));
  processes.push(...services);
  // Four services starting at once on a loaded machine: more than the usual 30 s to answer.
  const sched = await startHttpService('sched', env, { startTimeoutMs: 90_000 });
  processes.push(sched);
  const all = [sched, ...services];
  await until(async () => {
    const res = await fetch(`${sched.url}/api/instances`, { headers: bearer(TOKENS.viewer) });
    const { counts } = (await res.json()) as { counts: Record<string, number> };
    return counts.work === 1 && counts.notif === 1 && counts.recycle === 1;
  }, 'every service to register');
  const uid = await submitRun(sched.url);
  const follower = await follow(sched.url, uid, TOKENS.viewer);
  await fetch(`${sched.url}/api/runs`, { headers: bearer('not-a-valid-token-at-all') });

  // Redis at its client limit, every service's connections cut: each reconnection's AUTH is
  // refused ("max number of clients reached"), and every command waiting on it fails with that
  // AUTH command's error.
  await admin.config('SET', 'maxclients', '1');
  await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await admin.client('KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
  const during = await fetch(`${sched.url}/api/runs`, {
    headers: bearer(TOKENS.viewer),
    signal: AbortSignal.timeout(20_000),
  });
  expect(during.status).toBe(503);
  await new Promise((r) => setTimeout(r, 3000));
  await admin.config('SET', 'maxclients', '10000');
  await until(
    async () => {
      const res = await fetch(`${sched.url}/api/runs`, { headers: bearer(TOKENS.viewer) });
      return res.status === 200;
    },
    'sched to reach Redis again',
    30_000,
  );
  follower.close();
  await Promise.all(all.map((p) => p.kill('SIGTERM')));

  const output = all.map((p) => p.output()).join('\n');
  // The refusals were logged: the scan below looked at the lines that used to leak.
  expect(output).toMatch(/max number of clients reached/);
  for (const secret of [PASSWORD, ...Object.values(TOKENS)])
    expect(output.includes(secret), `a log line holds ${secret}`).toBe(false);
}, 180_000);
