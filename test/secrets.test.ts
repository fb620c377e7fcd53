/**
 * Secrets on the local executor, through real chainr processes (`chainr up` on a real Redis): a
 * job gets its values from the worker's secrets directory or file, and a job that prints them
 * leaves `***` in its stored log; no value is anywhere in Redis (every key listed by
 * `redis-cli --scan`, every value read), nor in the API's answers. Files others may read are
 * refused, saying which and why.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submit, waitForEnd, type RunBody } from './fixtures/api.ts';
import { startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

const TOKEN = 'tok-9f2c41d7e8b3';
const PASSWORD = 'pw-correct-horse-battery';
const CERT = 'cert-line-one-AAAA\ncert-line-two-BBBB\ncert-line-three-CCCC';
const ALL_VALUES = [TOKEN, PASSWORD, ...CERT.split('\n')];

let server: TestRedis;
let redis: Redis;
let dir: string;
let up: ChainrProcess & { url: string };

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  dir = mkdtempSync(join(tmpdir(), 'chainr-secrets-test-'));
  const secretsDir = join(dir, 'secrets');
  mkdirSync(join(secretsDir, 'api'), { recursive: true });
  mkdirSync(join(secretsDir, 'open'), { recursive: true });
  const write = (path: string, text: string, mode: number) => {
    writeFileSync(path, text);
    chmodSync(path, mode);
  };
  write(join(secretsDir, 'api', 'token'), `${TOKEN}\n`, 0o600);
  write(join(secretsDir, 'open', 'key'), 'group-readable-value', 0o640);
  const secretsFile = join(dir, 'secrets.json');
  write(secretsFile, JSON.stringify({ db: { password: PASSWORD, cert: CERT } }), 0o600);
  up = await startHttpService('up', {
    REDIS_URL: server.url,
    CHAINR_DATA_DIR: join(dir, 'data'),
    CHAINR_SECRETS_DIR: secretsDir,
    CHAINR_SECRETS_FILE: secretsFile,
    CHAINR_KUBERNETES: '0',
    CHAINR_CONTAINER: '0',
  });
}, 60_000);

afterAll(async () => {
  await up?.kill();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const secret = (name: string, key: string) => ({ secret: { name, key } });

async function runToEnd(jobs: Record<string, unknown>): Promise<RunBody> {
  const run = await submit(up.url, { kind: 'Pipeline', jobs });
  return waitForEnd(up.url, run.metadata.uid);
}

async function logOf(uid: string, job: string): Promise<string> {
  const res = await fetch(`${up.url}/api/runs/${uid}/jobs/${job}/logs`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Every key of the Redis (as redis-cli --scan lists them) with all of its values, as text. */
async function dumpRedis(): Promise<{ keys: string[]; text: string }> {
  const { stdout } = await promisify(execFile)('redis-cli', ['-u', server.url, '--scan']);
  const keys = stdout.split('\n').filter(Boolean);
  const parts: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    const value =
      type === 'string'
        ? await redis.get(key)
        : type === 'hash'
          ? await redis.hgetall(key)
          : type === 'list'
            ? await redis.lrange(key, 0, -1)
            : type === 'set'
              ? await redis.smembers(key)
              : type === 'zset'
                ? await redis.zrange(key, 0, -1, 'WITHSCORES')
                : type === 'stream'
                  ? await redis.xrange(key, '-', '+')
                  : `unread type ${type}`;
    parts.push(`${key} ${JSON.stringify(value)}`);
  }
  return { keys, text: parts.join('\n') };
}

describe('secrets on the local executor', () => {
  it('reach the job, are masked in its stored log however printed, and are nowhere in Redis or the API', async () => {
    const run = await runToEnd({
      echo: {
        image: 'busybox',
        env: {
          TOKEN: secret('api', 'token'),
          PASSWORD: secret('db', 'password'),
          CERT: secret('db', 'cert'),
          PLAIN: 'visible',
        },
        run: [
          'echo "token=$TOKEN plain=$PLAIN"',
          'echo "password on stderr: $PASSWORD" >&2',
          // The token in two writes, apart in time: one line once read.
          'printf "split=%s" "$(printf %s "$TOKEN" | cut -c1-6)"; sleep 0.3; printf "%s!\\n" "$(printf %s "$TOKEN" | cut -c7-)"',
          'echo "$CERT"',
          'echo "leak=$PASSWORD" >> "$CHAINR_OUTPUTS"',
          'test ${#TOKEN} -eq 16 && echo "token length ok"',
        ].join('\n'),
      },
      after: {
        image: 'busybox',
        dependsOn: [{ job: 'echo' }],
        env: { SEEN: '${{ jobs.echo.outputs.leak }}' },
        run: 'echo "ancestor output: $SEEN"',
      },
    });
    expect(run.jobs.map((j) => [j.name, j.status])).toEqual([
      ['echo', 'SUCCESSFUL'],
      ['after', 'SUCCESSFUL'],
    ]);
    const uid = run.metadata.uid;
    const log = await logOf(uid, 'echo');
    expect(log).toContain('token=*** plain=visible');
    expect(log).toContain('password on stderr: ***');
    expect(log).toContain('split=***!');
    expect(log).toContain('***\n***\n***');
    expect(log).toContain('token length ok');
    expect(await logOf(uid, 'after')).toContain('ancestor output: ***');

    const { keys, text } = await dumpRedis();
    expect(keys.some((k) => k.includes(`log:${uid}:echo`))).toBe(true);
    expect(text).toContain('token=*** plain=visible');
    for (const value of ALL_VALUES) expect(text).not.toContain(value);

    const api = await (await fetch(`${up.url}/api/runs/${uid}`)).text();
    for (const value of ALL_VALUES) expect(api).not.toContain(value);
  });

  it("run docs/PIPELINES.md's example as written: the log shows *** for the password", async () => {
    const doc = readFileSync(new URL('../docs/PIPELINES.md', import.meta.url), 'utf8');
    const yaml = /<!-- example: secrets -->\s*```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const res = await fetch(`${up.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: yaml,
    });
    const text = await res.text();
    expect(res.status, text).toBe(202);
    const run = await waitForEnd(up.url, (JSON.parse(text) as RunBody).metadata.uid);
    expect(run.status).toBe('SUCCESSFUL');
    expect(await logOf(run.metadata.uid, 'migrate')).toBe('connecting as app with ***\n');
  });

  it('fail the job, saying which secret and why, when a file is readable by others or a key is missing', async () => {
    const run = await runToEnd({
      open: { image: 'busybox', env: { KEY: secret('open', 'key') }, run: 'echo "$KEY"' },
      missing: { image: 'busybox', env: { KEY: secret('db', 'nope') }, run: 'echo never' },
    });
    const byName = Object.fromEntries(run.jobs.map((j) => [j.name, j]));
    expect(byName.open?.status).toBe('FAILED');
    expect(byName.open?.reason).toMatch(
      /^secret for KEY \(key "key" of secret "open"\): .*\/open\/key can be read or written by its group or others \(mode 0640\); make it the worker's alone \(chmod 600\)$/,
    );
    expect(byName.missing?.status).toBe('FAILED');
    expect(byName.missing?.reason).toMatch(
      /^secret for KEY: key "nope" of secret "db" not found \(looked in .*\/db\/nope and .*secrets\.json\)$/,
    );
    expect(JSON.stringify(run)).not.toContain('group-readable-value');
  });
});
