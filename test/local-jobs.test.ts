/**
 * What the local executor's jobs can reach and leave behind, with real chainr processes on a real
 * Redis: a job user keeps the worker's secrets from its jobs; a job that floods its output is cut
 * at the log limits while the worker's memory stays bounded; a worker that stops while Redis is
 * down ends its jobs; a worker killed outright has what it left ended by the next one on the host.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { logCutLine } from '../src/services/work/log-buffer.ts';
import { getRun, waitForEnd, type RunBody } from './fixtures/api.ts';
import { spawnChainr, startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { isRunning, until } from './fixtures/wait.ts';

const PASSWORD = 'redis-secret-0f4c1d';
/** Starting a service on a loaded machine (sources compiled at start) can take long. */
const START_MS = 120_000;

// Each test starts services and waits for runs: limits for a loaded machine, not timings.
vi.setConfig({ testTimeout: 300_000 });

let redis: TestRedis;
let scratch: string;
let prefix = 0;
const started: ChainrProcess[] = [];

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  scratch = mkdtempSync(join(tmpdir(), 'chainr-local-jobs-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill('SIGKILL')));
});
afterAll(async () => {
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Settings of one test: its own keys, its own work directory. */
function environment(extra: Record<string, string> = {}): Record<string, string> {
  prefix += 1;
  const workDir = mkdtempSync(join(scratch, 'work-'));
  return {
    REDIS_URL: redis.url,
    CHAINR_PREFIX: `localjobs${prefix}:`,
    CHAINR_WORK_DIR: workDir,
    CHAINR_KUBERNETES: '0',
    CHAINR_CONTAINER: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

async function up(env: Record<string, string>) {
  const proc = await startHttpService('up', env, { startTimeoutMs: START_MS });
  started.push(proc);
  return proc;
}

async function post(url: string, run: string): Promise<string> {
  const res = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'Pipeline', jobs: { job: { image: 'busybox', run } } }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as RunBody).metadata.uid;
}

async function logOf(url: string, uid: string): Promise<string> {
  const res = await fetch(`${url}/api/runs/${uid}/jobs/job/logs`);
  return res.text();
}

/** A pid a job wrote to a file, once it is there. */
async function pidIn(file: string): Promise<number> {
  await until(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'), file, 120_000);
  return Number(readFileSync(file, 'utf8').trim());
}

describe('secrets', () => {
  const job =
    'cat /proc/$PPID/environ > /dev/null 2>&1 && echo "environ: readable" || echo "environ: refused"; ' +
    'tr "\\0" "\\n" < /proc/$PPID/environ 2>/dev/null | grep "^REDIS_URL="; echo "uid=$(id -u)"';

  it('a job run as CHAINR_LOCAL_USER cannot read the worker environment and its Redis password', async () => {
    const chainr = await up(environment({ CHAINR_LOCAL_USER: 'nobody' }));
    const uid = await post(chainr.url, job);
    expect((await waitForEnd(chainr.url, uid, 120_000)).status).toBe('SUCCESSFUL');
    const log = await logOf(chainr.url, uid);
    expect(log).toContain('environ: refused');
    expect(log).toContain('uid=65534');
    expect(log).not.toContain(PASSWORD);
    expect(chainr.output()).toContain('jobs run as their own user');
  });

  it('without a job user, says loudly at start that jobs can read its secrets (and they can)', async () => {
    const chainr = await up(environment());
    expect(chainr.output()).toMatch(
      /local executor: jobs run as this worker's own user.*CHAINR_LOCAL_USER/,
    );
    const uid = await post(chainr.url, job);
    expect((await waitForEnd(chainr.url, uid, 120_000)).status).toBe('SUCCESSFUL');
    expect(await logOf(chainr.url, uid)).toContain(PASSWORD);
  });

  it('refuses to start with a job user it cannot use', async () => {
    const proc = spawnChainr(['work'], environment({ CHAINR_LOCAL_USER: 'no-such-user-here' }));
    started.push(proc);
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('CHAINR_LOCAL_USER: no user "no-such-user-here" on this host');
  });
});

describe('executors offered', () => {
  it('refuses a job for an executor the deployment does not offer, naming it', async () => {
    const sched = await startHttpService('sched', environment({ CHAINR_EXECUTORS: 'noop' }), {
      startTimeoutMs: START_MS,
    });
    started.push(sched);
    const res = await fetch(`${sched.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'Pipeline',
        jobs: {
          dry: { executor: 'noop', image: 'busybox', run: 'true' },
          here: { executor: 'local', image: 'busybox', run: 'true' },
        },
      }),
    });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain('jobs.here.executor');
    expect(body).toContain(
      'executor \\"local\\" is not offered by this deployment (CHAINR_EXECUTORS: noop)',
    );
    expect(body).not.toContain('jobs.dry');
  });
});

describe('log limits', () => {
  it('cuts long lines and a flooding job at their limits, marks the job, and keeps the worker small', async () => {
    const env = environment({
      CHAINR_LOG_LINE_BYTES: '4096',
      CHAINR_LOG_JOB_BYTES: '1048576',
      // Enough entries for the whole cut log: the line cap of the stream is not under test.
      CHAINR_MAX_LOG_LINES: '200000',
    });
    const chainr = await up(env);
    const pid = chainr.child.pid ?? 0;
    const peak = () =>
      Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
    // Warmed up first (a job's first run loads code, fills caches): only the flood is measured.
    await waitForEnd(chainr.url, await post(chainr.url, 'echo warm'), 120_000);
    const before = peak();
    // 400 MB in one line, then 30 MB of short lines.
    const uid = await post(
      chainr.url,
      "head -c 400000000 /dev/zero | tr '\\0' a; echo; yes 'a short line' | head -c 30000000; echo end",
    );
    const run = await waitForEnd(chainr.url, uid, 120_000);
    expect(run.status).toBe('SUCCESSFUL');
    expect((run.jobs[0] as { logTruncated?: boolean }).logTruncated).toBe(true);

    const client = redis.client();
    const entries = (await client.xrange(`${env.CHAINR_PREFIX}log:${uid}:job`, '-', '+')) as [
      string,
      string[],
    ][];
    client.disconnect();
    const lines = entries.map(([, fields]) => fields[1] ?? '');
    expect(lines[0]).toMatch(/^a{4096} \[chainr: line cut, 399995904 more bytes\]$/);
    expect(lines[1]).toBe('a short line');
    expect(lines.at(-1)).toBe(logCutLine(1048576));
    expect(lines).not.toContain('end');
    const stored = lines.reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);
    expect(stored).toBeLessThanOrEqual(1048576 + 200);
    // 430 MB went through the worker, 400 MB of it in one line, which a worker holding whole
    // lines would have had to hold: its peak memory grew by far less (what it grows by is the
    // heap's churn, the same for a flood of any size).
    expect(peak() - before).toBeLessThan(200 * 1024 * 1024);
  });
});

describe('job processes outlive no worker', () => {
  it('chainr up stopped while Redis is down leaves no job process running', async () => {
    const dir = mkdtempSync(join(scratch, 'pids-'));
    const env = environment({ CHAINR_SHUTDOWN_GRACE: '1s' });
    const chainr = await up(env);
    await post(chainr.url, `sleep 600 & echo $! > ${dir}/sleep; wait`);
    const sleep = await pidIn(join(dir, 'sleep'));
    await redis.kill('SIGKILL');
    try {
      chainr.child.kill('SIGTERM');
      await chainr.exited;
      expect(isRunning(sleep)).toBe(false);
    } finally {
      await redis.start();
    }
  });

  it('a worker killed outright has its job processes and directories ended by the next one', async () => {
    const dir = mkdtempSync(join(scratch, 'pids-'));
    const env = environment();
    const sched = await startHttpService('sched', env, { startTimeoutMs: START_MS });
    started.push(sched);
    const first = spawnChainr(['work'], env);
    started.push(first);
    const uid = await post(sched.url, `pwd > ${dir}/cwd; sleep 600 & echo $! > ${dir}/sleep; wait`);
    const sleep = await pidIn(join(dir, 'sleep'));
    const cwd = readFileSync(join(dir, 'cwd'), 'utf8').trim();
    await first.kill('SIGKILL');
    // What a killed worker leaves: its job still running, its directory still there.
    expect(isRunning(sleep)).toBe(true);
    expect(existsSync(cwd)).toBe(true);

    const second = spawnChainr(['work'], env);
    started.push(second);
    await until(
      () => !isRunning(sleep),
      () => `the orphaned job ended; the second worker printed:\n${second.output()}`,
      120_000,
    );
    expect(existsSync(cwd)).toBe(false);
    await until(
      () => second.output().includes('ended what workers killed on this host left behind'),
      'the reaping logged',
      30_000,
    );
    expect((await getRun(sched.url, uid)).status).not.toBe('FAILED');
  });
});
