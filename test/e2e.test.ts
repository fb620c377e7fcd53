/**
 * End to end, the way users run chainr: `chainr up` as a child process with its private Redis,
 * and `chainr sched` + two `chainr work` processes over one shared Redis.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceCases } from '../src/core/conformance.fixture.ts';
import type { Pipeline } from '../src/core/types.ts';
import { getRun, statuses, submit, waitForEnd } from './fixtures/api.ts';
import { spawnChainr, startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { isRunning, until } from './fixtures/wait.ts';

describe('chainr up (one process, private Redis)', () => {
  let up: ChainrProcess & { url: string };
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chainr-e2e-'));
    const env: Record<string, string> = { CHAINR_DATA_DIR: dataDir };
    // The private Redis is the point here: make sure no shared one is configured.
    for (const name of ['REDIS_URL', 'REDIS_ADDR', 'REDIS_ADDRS']) env[name] = '';
    up = await startHttpService('up', env);
  });
  afterAll(async () => {
    await up.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const c of conformanceCases) {
    it(`conformance: ${c.name}`, async () => {
      const run = await waitForEnd(up.url, (await submit(up.url, c.pipeline)).metadata.uid);
      expect(statuses(run)).toEqual(c.expect.jobs);
      expect(run.status).toBe(c.expect.status);
    });
  }

  it('keeps its Redis data append-only under the data directory', () => {
    expect(readFileSync(join(dataDir, 'redis', 'redis.conf'), 'utf8')).toContain('appendonly yes');
  });

  it('shuts down cleanly on SIGTERM and stops its Redis', async () => {
    const pid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
    expect(await up.kill('SIGTERM')).toBe(0);
    const deadline = Date.now() + 10_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });
});

describe('chainr up interrupted from a terminal', () => {
  it('exits 0 at once on Ctrl+C, which reaches its whole process group', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chainr-e2e-'));
    const env: Record<string, string> = { CHAINR_DATA_DIR: dataDir, CHAINR_CONTAINER: '0' };
    for (const name of ['REDIS_URL', 'REDIS_ADDR', 'REDIS_ADDRS']) env[name] = '';
    const up = await startHttpService('up', env, { ownProcessGroup: true });
    try {
      const t0 = Date.now();
      process.kill(-(up.child.pid ?? 0), 'SIGINT');
      // Its private Redis outlives the services it serves, which stop first.
      expect(await up.exited).toBe(0);
      // Well under CHAINR_SHUTDOWN_GRACE (10 s) + 5 s, when a stop that cannot finish gives up.
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await up.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('chainr up stopped while it starts', () => {
  it('exits 143 on SIGTERM and leaves no private redis-server behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chainr-e2e-'));
    // An archive that accepts the connection and never answers: the start waits there, after its
    // private Redis has started.
    const silent = createServer(() => undefined);
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const { port } = silent.address() as AddressInfo;
    const env: Record<string, string> = {
      CHAINR_DATA_DIR: dataDir,
      CHAINR_CONTAINER: '0',
      CHAINR_ARCHIVE_URL: `postgres://chainr@127.0.0.1:${port}/chainr`,
      LOG_LEVEL: 'info',
    };
    for (const name of ['REDIS_URL', 'REDIS_ADDR', 'REDIS_ADDRS']) env[name] = '';
    const up = spawnChainr(['up'], env);
    try {
      await until(() => up.output().includes('private redis-server started'), 'its Redis', 60_000);
      const redisPid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
      expect(up.output()).not.toContain('chainr is up');
      expect(await up.kill('SIGTERM')).toBe(143);
      await until(() => !isRunning(redisPid), 'its redis-server to stop', 10_000);
    } finally {
      await up.kill('SIGKILL');
      silent.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("chainr up's worker, on a thread of its own", () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  /** `chainr up` over the test's Redis, under a prefix of its own. */
  const settings = (env: Record<string, string> = {}) => ({
    REDIS_URL: redis.url,
    CHAINR_PREFIX: `t${Math.random().toString(36).slice(2, 8)}:`,
    CHAINR_CONTAINER: '0',
    ...env,
  });

  it("serves the worker's metrics once, beside the process's, on the API's port", async () => {
    const up = await startHttpService('up', settings());
    try {
      const jobs: Pipeline['jobs'] = { a: { image: 'busybox', run: 'true' } };
      jobs.b = { image: 'busybox', run: 'true', dependsOn: [{ job: 'a' }] };
      const run = await waitForEnd(
        up.url,
        (await submit(up.url, { kind: 'Pipeline', jobs })).metadata.uid,
      );
      expect(run.status).toBe('SUCCESSFUL');
      const text = await (await fetch(`${up.url}/metrics`)).text();
      expect(text).toMatch(
        /^chainr_job_duration_seconds_count\{executor="local",status="SUCCESSFUL"\} 2$/m,
      );
      expect(text).toMatch(/^chainr_job_hop_seconds_count\{executor="local"\} 2$/m);
      // The worker thread's own event loop and heap, beside the main thread's nodejs_* ones.
      const value = (name: string) =>
        Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      expect(value('chainr_work_thread_event_loop_busy_seconds_total')).toBeGreaterThan(0);
      expect(value('chainr_work_thread_event_loop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
      expect(value('chainr_work_thread_heap_used_bytes')).toBeGreaterThan(1_000_000);
      expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(1_000_000);
      // Each family once: the thread's figures do not repeat the main thread's.
      const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
      expect(types.length).toBeGreaterThan(10);
      expect(new Set(types).size).toBe(types.length);
      const ready = (await (await fetch(`${up.url}/readyz`)).json()) as { checks: object };
      expect(ready.checks).toMatchObject({ sched: true, work: true });
    } finally {
      await up.kill('SIGTERM');
    }
  });

  it('lets a running job finish on SIGTERM, records it, and exits 0', async () => {
    const env = settings({ CHAINR_SHUTDOWN_GRACE: '10s' });
    const up = await startHttpService('up', env);
    const jobs: Pipeline['jobs'] = { slow: { image: 'busybox', run: 'sleep 1' } };
    const { uid } = (await submit(up.url, { kind: 'Pipeline', jobs })).metadata;
    const deadline = Date.now() + 10_000;
    while ((await getRun(up.url, uid)).jobs[0]?.status !== 'RUNNING') {
      if (Date.now() > deadline) throw new Error('the job did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await up.kill('SIGTERM')).toBe(0);
    // The process is gone: read the run through another one.
    const sched = await startHttpService('sched', env);
    try {
      expect(statuses(await getRun(sched.url, uid))).toEqual({ slow: 'SUCCESSFUL' });
    } finally {
      await sched.kill();
    }
  });

  it('exits with the configuration error when the worker cannot start', async () => {
    const up = spawnChainr(
      ['up'],
      settings({ CHAINR_CONTAINER: '1', CHAINR_CONTAINER_ENGINE: 'no-such-engine' }),
    );
    expect(await up.exited).toBe(2);
    expect(up.output()).toContain(
      'chainr: container executor: no-such-engine does not answer "version"',
    );
  });
});

describe('chainr sched + two chainr work processes over one Redis', () => {
  let redis: TestRedis;
  let sched: ChainrProcess & { url: string };
  let workers: ChainrProcess[];
  let dir: string;

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'chainr-ledger-'));
    const env = { REDIS_URL: redis.url, CHAINR_CONCURRENCY: '4' };
    workers = [spawnChainr(['work'], env), spawnChainr(['work'], env)];
    sched = await startHttpService('sched', env);
  });
  afterAll(async () => {
    await Promise.all([sched.kill(), ...workers.map((w) => w.kill())]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every job exactly once, spread over both workers', async () => {
    const ledger = join(dir, 'ledger');
    // Each job records its name and its worker's pid ($PPID of `sh -c` is the worker).
    const record = `echo "$CHAINR_JOB_NAME $PPID" >> ${ledger}; sleep 0.2`;
    const jobs: Pipeline['jobs'] = { root: { image: 'busybox', run: record } };
    for (let i = 0; i < 16; i++)
      jobs[`mid-${i}`] = { image: 'busybox', run: record, dependsOn: [{ job: 'root' }] };
    jobs.last = {
      image: 'busybox',
      run: record,
      dependsOn: Object.keys(jobs)
        .filter((j) => j !== 'root')
        .map((j) => ({ job: j })),
    };
    const run = await waitForEnd(
      sched.url,
      (await submit(sched.url, { kind: 'Pipeline', jobs })).metadata.uid,
    );
    expect(run.status).toBe('SUCCESSFUL');
    const lines = readFileSync(ledger, 'utf8').trim().split('\n');
    const names = lines.map((l) => l.split(' ')[0]).sort();
    expect(names).toEqual(Object.keys(jobs).sort());
    const pids = new Set(lines.map((l) => Number(l.split(' ')[1])));
    expect(pids).toEqual(new Set(workers.map((w) => w.child.pid)));
  });

  it('runs the seed pipeline with first failing to the fallback', async () => {
    const failing = conformanceCases.find((c) => c.name === 'seed example, first fails');
    if (!failing) throw new Error('conformance case missing');
    const run = await waitForEnd(
      sched.url,
      (await submit(sched.url, failing.pipeline)).metadata.uid,
    );
    expect(statuses(run)).toEqual({
      first: 'FAILED',
      second: 'SUCCESSFUL',
      success: 'SKIPPED',
      error: 'SUCCESSFUL',
    });
    expect(run.status).toBe('FAILED');
  });
});
