/**
 * The SQL archive of ended runs (src/archive/), the same suite on a real SQLite file and on a
 * real PostgreSQL server started here: idempotent archiving, reading back what the live API
 * showed, newest-first pages with the live list's filters, compressed logs, retention, and
 * migrations run by several processes at once.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openArchive, type ArchiveConfig } from '../src/archive/open.ts';
import { MIGRATIONS } from '../src/archive/schema.ts';
import type { ArchiveStore } from '../src/archive/store.ts';
import { matches, parseSelector, type Requirement } from '../src/core/selector.ts';
import type { RunStatus } from '../src/core/types.ts';
import type { Run } from '../src/api/wire.ts';
import { makeKeys } from '../src/store/keys.ts';
import { LogStore } from '../src/store/logs.ts';
import type { JobRecord, RunRecord } from '../src/store/run-hash.ts';
import { RunStore } from '../src/store/runs.ts';
import { runView } from '../src/services/sched/views.ts';
import { ApiError, ChainrClient } from '../src/api/client.ts';
import { submit, waitForEnd } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { ARCHIVE_BACKENDS, type ArchiveBackend } from './fixtures/archive-backends.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let redis: TestRedis;
let chainr: Harness;

beforeAll(async () => {
  redis = await startRedis();
  chainr = await startInProcess(redis.url);
});
afterAll(async () => {
  await chainr?.stop();
  await redis?.stop();
});

/** Some moment, then each run a millisecond later: uids (UUIDv7) in creation order. */
const T0 = Date.parse('2026-03-01T00:00:00Z');

function jobRecord(name: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    name,
    status: 'SUCCESSFUL',
    attempt: 1,
    startedAt: T0 + 5,
    finishedAt: T0 + 50,
    exitCode: 0,
    attempts: [],
    executor: 'local',
    queued: true,
    tolerated: false,
    ...extra,
  };
}

function endedRun(createdAt: number, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    uid: uuidv7({ msecs: createdAt }),
    status: 'SUCCESSFUL',
    name: 'etl',
    labels: {},
    params: {},
    createdAt,
    startedAt: createdAt + 5,
    finishedAt: createdAt + 1000,
    jobs: [jobRecord('build')],
    pipeline: { kind: 'Pipeline', jobs: { build: { image: 'busybox', run: 'true' } } },
    ...extra,
  };
}

describe('trends without an archive', () => {
  it('count the ended runs still in Redis alone, and say so', async () => {
    const name = `live-only-${uuidv7().slice(-8)}`;
    const pipeline = {
      kind: 'Pipeline',
      metadata: { name },
      jobs: { only: { image: 'busybox', run: 'true' } },
    };
    const uid = (await submit(chainr.url, pipeline)).metadata.uid;
    await waitForEnd(chainr.url, uid);
    const client = new ChainrClient({ server: chainr.url });
    const trends = await client.pipelineTrends(name);
    expect([trends.archived, trends.days, trends.daily.length]).toEqual([false, 14, 14]);
    expect(trends.runs.map((r) => r.uid)).toEqual([uid]);
    expect(trends.slowestJobs.map((j) => [j.job, j.attempts])).toEqual([['only', 1]]);
    const refused = await client.pipelineTrends(name, 367).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect([(refused as ApiError).status, (refused as ApiError).message]).toEqual([
      400,
      'querystring.days: must be <= 366',
    ]);
  });
});

describe.each(ARCHIVE_BACKENDS)('the archive on $name', ({ start }) => {
  let backend: ArchiveBackend;
  const opened: ArchiveStore[] = [];

  beforeAll(async () => {
    backend = await start();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(() => backend?.stop());

  async function fresh(): Promise<{ store: ArchiveStore; config: ArchiveConfig }> {
    const config = await backend.config();
    const store = await openArchive(config);
    opened.push(store);
    return { store, config };
  }

  it('shows an archived run and its logs exactly as the live API showed them', async () => {
    const flag = join(tmpdir(), `chainr-archive-flaky-${uuidv7()}`);
    const submitted = await submit(chainr.url, {
      pipeline: {
        kind: 'Pipeline',
        metadata: { name: 'nightly', labels: { team: 'data', tier: 'prod' } },
        params: { greeting: { default: 'hello' } },
        jobs: {
          flaky: {
            image: 'busybox',
            // Fails its first attempt, succeeds on the second.
            run: `if [ -f ${flag} ]; then echo "second try: é ✓"; else touch ${flag}; echo "first try" >&2; exit 3; fi`,
            retries: { limit: 1 },
          },
          report: {
            image: 'busybox',
            run: 'echo "$CHAINR_PARAM_GREETING"; echo "rows=42" >> "$CHAINR_OUTPUTS"',
            dependsOn: [{ job: 'flaky' }],
          },
          quiet: { image: 'busybox', run: 'true' },
        },
      },
    });
    const uid = submitted.metadata.uid;
    await waitForEnd(chainr.url, uid);
    rmSync(flag, { force: true });
    const live = (await (await fetch(`${chainr.url}/api/runs/${uid}`)).json()) as Run;

    const keys = makeKeys(chainr.prefix);
    const record = await new RunStore(redis.client(), keys, 10_000).get(uid);
    if (!record) throw new Error(`run ${uid} not found in Redis`);
    const logStore = new LogStore(redis.client(), keys, 1000);
    const logs = Object.fromEntries(
      await Promise.all(
        record.jobs.map(async (j) => [j.name, await logStore.readAll(uid, j.name)] as const),
      ),
    );
    const { store } = await fresh();
    expect(await store.archive(record, logs, Date.now())).toBe(true);

    const archived = await store.get(uid);
    if (!archived) throw new Error('the archived run is not found');
    expect(JSON.parse(JSON.stringify(runView(archived, { withPipeline: true })))).toEqual(live);
    // What the comparison covers: a retried job's attempts, outputs, labels, params, the pipeline.
    expect(live.jobs.map((j) => [j.name, j.attempt, j.attempts?.length, j.outputs])).toEqual([
      ['flaky', 2, 2, undefined],
      ['report', 1, 1, { rows: '42' }],
      ['quiet', 1, 1, undefined],
    ]);
    expect([live.metadata.labels, live.params, live.pipeline?.kind]).toEqual([
      { team: 'data', tier: 'prod' },
      { greeting: 'hello' },
      'Pipeline',
    ]);
    for (const job of ['flaky', 'report', 'quiet'])
      expect(await store.logs(uid, job)).toEqual(logs[job]?.map(({ id: _, ...line }) => line));
    expect(await store.logs(uid, 'flaky')).toEqual([
      { line: 'first try', stream: 'stderr', attempt: 1 },
      { line: 'second try: é ✓', stream: 'stdout', attempt: 2 },
    ]);
  });

  it('stores a run once however often, and by however many at once, it is archived', async () => {
    const { store, config } = await fresh();
    const run = endedRun(T0, {
      labels: { team: 'data' },
      jobs: [
        jobRecord('build', {
          attempt: 2,
          attempts: [
            { attempt: 1, status: 'FAILED', startedAt: T0, finishedAt: T0 + 3, exitCode: 1 },
          ],
        }),
      ],
    });
    const logs = { build: [{ line: 'built', stream: 'stdout' as const, attempt: 1 }] };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => store.archive(run, logs, T0 + 2000)),
    );
    expect(answers.filter((stored) => stored)).toHaveLength(1);
    expect(await store.archive(run, logs, T0 + 3000)).toBe(false);

    const count = async (table: string) =>
      Number((await backend.query(config, `select count(*) as n from ${table}`))[0]?.n);
    expect(await count('chainr_runs')).toBe(1);
    expect(await count('chainr_run_labels')).toBe(1);
    expect(await count('chainr_job_attempts')).toBe(2);
    expect(await count('chainr_log_spans')).toBe(1);
    expect(await count('chainr_log_parts')).toBe(1);
    expect(await store.get(run.uid)).toEqual(run);
  });

  it('replaces a copy with a later end of the same run (retried before it left Redis), not an earlier one', async () => {
    const { store, config } = await fresh();
    const first = endedRun(T0, { status: 'FAILED', labels: { try: '1' } });
    const retried = endedRun(T0, {
      uid: first.uid,
      status: 'SUCCESSFUL',
      labels: { try: '2' },
      finishedAt: T0 + 9000,
      jobs: [jobRecord('build', { attempt: 2, attempts: [{ attempt: 1, status: 'FAILED' }] })],
    });
    const logOf = (line: string) => ({ build: [{ line, stream: 'stdout' as const, attempt: 1 }] });
    expect(await store.archive(first, logOf('first'), T0 + 2000)).toBe(true);
    expect(await store.archive(retried, logOf('second'), T0 + 10_000)).toBe(true);
    expect(await store.archive(first, logOf('first'), T0 + 11_000)).toBe(false);
    expect(await store.get(first.uid)).toEqual(retried);
    expect(await store.logs(first.uid, 'build')).toEqual(logOf('second').build);
    const rows = await backend.query(config, 'select key, value from chainr_run_labels');
    expect(rows).toEqual([{ key: 'try', value: '2' }]);
    const attempts = await backend.query(config, 'select count(*) as n from chainr_job_attempts');
    expect(Number(attempts[0]?.n)).toBe(2);
  });

  it('archives many runs in one go, storing only those not archived yet', async () => {
    const { store, config } = await fresh();
    const runs = Array.from({ length: 250 }, (_, i) =>
      endedRun(T0 + i, { labels: { n: String(i) }, jobs: [jobRecord('build'), jobRecord('test')] }),
    );
    const logs = { build: [{ line: 'built', stream: 'stdout' as const, attempt: 1 }], test: [] };
    const early = [runs[3], runs[200]] as RunRecord[];
    for (const run of early) await store.archive(run, logs, T0);
    const stored = await store.archiveMany(
      runs.map((run) => ({ run, logs })),
      T0 + 5000,
    );
    expect(stored).toEqual(runs.filter((r) => !early.includes(r)).map((r) => r.uid));
    const count = async (table: string) =>
      Number((await backend.query(config, `select count(*) as n from ${table}`))[0]?.n);
    expect(await count('chainr_runs')).toBe(250);
    expect(await count('chainr_run_labels')).toBe(250);
    expect(await count('chainr_job_attempts')).toBe(500);
    expect(await count('chainr_log_spans')).toBe(500);
    expect(await count('chainr_log_parts')).toBe(250);
    expect(await store.get(runs[249]?.uid ?? '')).toEqual(runs[249]);
    expect(await store.logs(runs[100]?.uid ?? '', 'build')).toEqual(logs.build);
    const twice = endedRun(T0 - 1);
    await expect(
      store.archiveMany(
        [
          { run: twice, logs: {} },
          { run: twice, logs: {} },
        ],
        T0,
      ),
    ).rejects.toThrow(`run ${twice.uid} is given twice to archive`);
  });

  it('refuses a run that has not ended, or a log for a job it does not have, naming it', async () => {
    const { store } = await fresh();
    const running = endedRun(T0, { status: 'RUNNING', finishedAt: undefined });
    await expect(store.archive(running, {}, T0)).rejects.toThrow(
      `run ${running.uid} is RUNNING: only a run that has ended is archived`,
    );
    const run = endedRun(T0 + 1);
    await expect(store.archive(run, { deploy: [] }, T0)).rejects.toThrow(
      `run ${run.uid} has no job "deploy", yet a log was given for it`,
    );
    expect(await store.get(run.uid)).toBeUndefined();
  });

  it('lists runs newest first, a page at a time, with no run twice or missed', async () => {
    const { store } = await fresh();
    const runs = Array.from({ length: 23 }, (_, i) => endedRun(T0 + i));
    // Archived in another order than they were created: the list follows creation.
    for (const run of [...runs].reverse()) await store.archive(run, {}, T0 + 5000);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await store.list(10, after);
      seen.push(...page.runs.map((r) => r.uid));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(runs.map((r) => r.uid).reverse());
    // A page's runs read back as they were archived, without the pipeline a list leaves out.
    expect((await store.list(1)).runs).toEqual([{ ...runs[22], pipeline: undefined }]);
    await expect(store.list(0)).rejects.toThrow('limit: expected an integer from 1 to 1000, got 0');
  });

  it('filters by status, pipeline name and label selector as the live list does', async () => {
    const { store } = await fresh();
    const statuses: RunStatus[] = ['SUCCESSFUL', 'FAILED', 'CANCELED'];
    const teams = ['data', 'web', undefined];
    const runs = Array.from({ length: 30 }, (_, i) => {
      const team = teams[i % 3];
      return endedRun(T0 + i, {
        status: statuses[Math.floor(i / 3) % 3] as RunStatus,
        name: i % 4 === 0 ? 'deploy' : i % 4 === 1 ? undefined : 'etl',
        labels: {
          ...(team !== undefined && { team }),
          ...(i % 5 === 0 && { critical: 'yes' }),
        },
      });
    });
    for (const run of runs) await store.archive(run, {}, T0 + 5000);
    const requirements = (text: string): Requirement[] => {
      const parsed = parseSelector(text);
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.requirements;
    };
    const filters = [
      { status: 'FAILED' as const },
      { name: 'deploy' },
      { selector: requirements('team=data') },
      { selector: requirements('team!=data') },
      { selector: requirements('critical') },
      { selector: requirements('!team') },
      { status: 'SUCCESSFUL' as const, name: 'etl', selector: requirements('team=web,!critical') },
      { selector: requirements('team=nobody') },
    ];
    for (const filter of filters) {
      const expected = runs
        .filter(
          (r) =>
            (filter.status === undefined || r.status === filter.status) &&
            (filter.name === undefined || r.name === filter.name) &&
            matches(filter.selector ?? [], r.labels),
        )
        .map((r) => r.uid)
        .reverse();
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await store.list(4, after, filter);
        // Filtered in SQL: every page but the last is full.
        if (page.next !== undefined) expect(page.runs).toHaveLength(4);
        seen.push(...page.runs.map((r) => r.uid));
        after = page.next;
      } while (after !== undefined);
      expect(seen, JSON.stringify(filter)).toEqual(expected);
    }
  });

  it("aggregates a pipeline's trends over archived and live runs, counting each run once", async () => {
    const { store } = await fresh();
    const day = 86_400_000;
    const now = T0 + 2 * day + 12 * 3_600_000;
    /** A run whose build takes `buildMs` and whose lint takes 1 ms; the run 10 ms more than its build. */
    const run = (createdAt: number, status: RunStatus, buildMs: number, extra = {}) =>
      endedRun(createdAt, {
        status,
        startedAt: createdAt + 5,
        finishedAt: createdAt + 5 + buildMs + 10,
        jobs: [
          jobRecord('build', {
            status: status === 'SUCCESSFUL' ? 'SUCCESSFUL' : 'FAILED',
            startedAt: createdAt + 5,
            finishedAt: createdAt + 5 + buildMs,
          }),
          jobRecord('lint', { startedAt: createdAt + 5, finishedAt: createdAt + 6 }),
          jobRecord('report', { status: 'SKIPPED', startedAt: undefined, finishedAt: undefined }),
        ],
        ...extra,
      });
    // 19 runs: 10 on the first day, 9 on the second of which 3 failed; builds of 100 ms × (i + 1).
    const archived = Array.from({ length: 19 }, (_, i) =>
      run(
        T0 + (i < 10 ? 0 : day) + i * 60_000,
        i >= 10 && i % 3 === 0 ? 'FAILED' : 'SUCCESSFUL',
        100 * (i + 1),
      ),
    );
    const beforeWindow = run(T0 - day, 'SUCCESSFUL', 99_000);
    const otherPipeline = run(T0 + 1000, 'SUCCESSFUL', 50_000, { name: 'deploy' });
    await store.archiveMany(
      [...archived, beforeWindow, otherPipeline].map((r) => ({ run: r, logs: {} })),
      now,
    );
    const liveEnded = run(T0 + 2 * day + 1000, 'CANCELED', 2000);
    const live = [
      archived[18] as RunRecord, // archived, not yet gone from Redis: counted once
      liveEnded,
      endedRun(T0 + 2 * day + 2000, { status: 'RUNNING', finishedAt: undefined }),
      run(T0 + 2 * day + 3000, 'SUCCESSFUL', 70_000, { name: 'deploy' }),
    ];

    const trends = await store.trends('etl', { days: 3, now, live });
    expect(trends.runs.map((r) => [r.uid, r.status, r.durationMs])).toEqual(
      [...archived, liveEnded].map((r, i) => [
        r.uid,
        r.status,
        i === 19 ? 2010 : 100 * (i + 1) + 10,
      ]),
    );
    expect(trends.days).toEqual([
      { day: '2026-03-01', successful: 10, failed: 0, canceled: 0 },
      { day: '2026-03-02', successful: 6, failed: 3, canceled: 0 },
      { day: '2026-03-03', successful: 0, failed: 0, canceled: 1 },
    ]);
    // build: 100, 200, … 2000 ms (nearest-rank p95: the 19th of 20); skipped jobs never ran.
    expect(trends.slowestJobs).toEqual([
      { job: 'build', attempts: 20, avgMs: 1050, p95Ms: 1900, maxMs: 2000 },
      { job: 'lint', attempts: 20, avgMs: 1, p95Ms: 1, maxMs: 1 },
    ]);

    const bounded = await store.trends('etl', { days: 3, now, live, maxRuns: 5, maxJobs: 1 });
    expect(bounded.runs.map((r) => r.uid)).toEqual(
      [...archived.slice(-4), liveEnded].map((r) => r.uid),
    );
    expect(bounded.slowestJobs.map((j) => j.job)).toEqual(['build']);
    const today = await store.trends('etl', { days: 1, now, live });
    expect(today.runs.map((r) => r.uid)).toEqual([liveEnded.uid]);
    expect(today.days).toEqual([{ day: '2026-03-03', successful: 0, failed: 0, canceled: 1 }]);
    const nothing = await store.trends('nothing-by-that-name', { days: 2, now });
    expect(nothing).toEqual({
      runs: [],
      days: [
        { day: '2026-03-02', successful: 0, failed: 0, canceled: 0 },
        { day: '2026-03-03', successful: 0, failed: 0, canceled: 0 },
      ],
      slowestJobs: [],
    });
    await expect(store.trends('etl', { days: 0, now })).rejects.toThrow(
      'days: expected an integer from 1 to 366, got 0',
    );
  });

  it('serves the trends of archived and live runs over HTTP, a run in both stores once', async () => {
    const { store } = await fresh();
    const api = await startInProcess(redis.url, { archive: store });
    try {
      const pipeline = (run: string) => ({
        kind: 'Pipeline',
        metadata: { name: 'trendy' },
        jobs: { step: { image: 'busybox', run } },
      });
      const ok = (await submit(api.url, pipeline('true'))).metadata.uid;
      const failed = (await submit(api.url, pipeline('exit 1'))).metadata.uid;
      await waitForEnd(api.url, ok);
      await waitForEnd(api.url, failed);
      // Archived, and still in Redis (as between the archive's commit and the run leaving Redis).
      const record = await new RunStore(redis.client(), makeKeys(api.prefix), 10_000).get(ok);
      if (!record) throw new Error(`run ${ok} not found in Redis`);
      const older = endedRun(Date.now() - 2 * 86_400_000, { name: 'trendy' });
      await store.archiveMany(
        [record, older].map((run) => ({ run, logs: {} })),
        Date.now(),
      );

      const client = new ChainrClient({ server: api.url });
      const trends = await client.pipelineTrends('trendy', 7);
      expect([trends.kind, trends.metadata.name, trends.days, trends.archived]).toEqual([
        'PipelineTrends',
        'trendy',
        7,
        true,
      ]);
      expect(trends.runs.map((r) => [r.uid, r.status])).toEqual([
        [older.uid, 'SUCCESSFUL'],
        [ok, 'SUCCESSFUL'],
        [failed, 'FAILED'],
      ]);
      expect(trends.daily).toHaveLength(7);
      const dayOf = (iso: string) => iso.slice(0, 10);
      const ended = trends.runs.map((r) => [dayOf(r.finishedAt), r.status]);
      for (const day of trends.daily)
        expect([day.successful, day.failed, day.canceled], day.day).toEqual(
          (['SUCCESSFUL', 'FAILED', 'CANCELED'] as const).map(
            (status) => ended.filter(([d, s]) => d === day.day && s === status).length,
          ),
        );
      const jobs = trends.slowestJobs.map((j) => [j.job, j.attempts]);
      expect(jobs.sort()).toEqual([
        ['build', 1],
        ['step', 2],
      ]);
    } finally {
      await api.stop();
    }
  });

  it('keeps logs compressed and reads them back line by line', async () => {
    const { store, config } = await fresh();
    const lines = Array.from({ length: 2000 }, (_, i) => ({
      line: `step ${i % 10}: copying table rows, all is well`,
      stream: i % 100 === 0 ? ('stderr' as const) : ('stdout' as const),
      attempt: i < 1500 ? 1 : 2,
    }));
    const run = endedRun(T0, { jobs: [jobRecord('build'), jobRecord('silent')] });
    await store.archive(run, { build: lines, silent: [] }, T0 + 2000);
    expect(await store.logs(run.uid, 'build')).toEqual(lines);
    expect(await store.logs(run.uid, 'silent')).toEqual([]);
    expect(await store.logs(run.uid, 'deploy')).toBeUndefined();
    expect(await store.logs(uuidv7(), 'build')).toBeUndefined();

    const [stored] = await backend.query(
      config,
      `select lines, bytes, length(data) as compressed from chainr_log_spans s
        join chainr_log_parts p on p.run_uid = s.run_uid and p.part = s.part
        where job = 'build'`,
    );
    const text = lines.reduce((n, l) => n + Buffer.byteLength(l.line), 0);
    expect({ lines: Number(stored?.lines), bytes: Number(stored?.bytes) }).toEqual({
      lines: 2000,
      bytes: text,
    });
    expect(Number(stored?.compressed)).toBeLessThan(text / 20);
  });

  it("compresses a run's short logs together and gives a long log a part of its own", async () => {
    const { store, config } = await fresh();
    const log = (job: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        line: `${job} ${i}: ${'x'.repeat(i % 50)}`,
        stream: 'stdout' as const,
        attempt: 1,
      }));
    // Short, short, long (about 3 MB of JSON), short, short.
    const logs = {
      a: log('a', 10),
      b: log('b', 300),
      long: log('long', 60_000),
      c: log('c', 1),
      d: [],
    };
    const run = endedRun(T0, { jobs: Object.keys(logs).map((job) => jobRecord(job)) });
    await store.archive(run, logs, T0 + 2000);
    for (const [job, lines] of Object.entries(logs))
      expect(await store.logs(run.uid, job)).toEqual(lines);
    const parts = await backend.query(
      config,
      'select job, part from chainr_log_spans order by part, job',
    );
    expect(parts.map((p) => [p.job, Number(p.part)])).toEqual([
      ['a', 0],
      ['b', 0],
      ['long', 1],
      ['c', 2],
      ['d', 2],
    ]);
  });

  it('reads a log archived before logs were compressed per run (one row per job)', async () => {
    const { store, config } = await fresh();
    const run = endedRun(T0, { jobs: [jobRecord('build')] });
    await store.archive(run, {}, T0 + 2000);
    const hex = gzipSync(
      JSON.stringify([
        ['o', 'old'],
        ['e', 'line', 2],
      ]),
    ).toString('hex');
    const data = config.backend === 'postgres' ? `decode('${hex}', 'hex')` : `unhex('${hex}')`;
    await backend.query(
      config,
      `insert into chainr_job_logs (run_uid, job, encoding, lines, bytes, data)
        values ('${run.uid}', 'build', 'gzip-json', 2, 7, ${data})`,
    );
    expect(await store.logs(run.uid, 'build')).toEqual([
      { line: 'old', stream: 'stdout', attempt: 1 },
      { line: 'line', stream: 'stderr', attempt: 2 },
    ]);
  });

  it('deletes by age and by count per status, in batches, and keeps the rest', async () => {
    const { store } = await fresh();
    const day = 24 * 3600_000;
    const now = T0 + 100 * day;
    // 12 successes and 12 failures, one a day from day 80 on (each ends a second after it starts).
    const runs = Array.from({ length: 24 }, (_, i) =>
      endedRun(T0 + (80 + Math.floor(i / 2)) * day + i, {
        status: i % 2 === 0 ? 'SUCCESSFUL' : 'FAILED',
      }),
    );
    for (const run of runs)
      await store.archive(run, { build: [{ line: 'x', stream: 'stdout', attempt: 1 }] }, now);
    const successes = runs.filter((r) => r.status === 'SUCCESSFUL');
    const failures = runs.filter((r) => r.status === 'FAILED');
    // Successes: 7 days, at most 5; failures: 15 days.
    const deleted = await store.applyRetention(
      { SUCCESSFUL: { maxAgeMs: 7 * day, keep: 5 }, FAILED: { maxAgeMs: 15 * day } },
      now,
      2,
    );
    const kept = (await store.list(100)).runs.map((r) => r.uid);
    const expected = [
      // Successes of days 93..91 ended within 7 days of day 100; of those, the newest 5 stay.
      ...successes.filter((r) => (r.finishedAt as number) >= now - 7 * day).slice(-5),
      ...failures.filter((r) => (r.finishedAt as number) >= now - 15 * day),
    ]
      .map((r) => r.uid)
      .sort()
      .reverse();
    expect(kept).toEqual(expected);
    expect(deleted).toBe(runs.length - expected.length);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(runs.length);
    const gone = runs.find((r) => !expected.includes(r.uid)) as RunRecord;
    expect(await store.logs(gone.uid, 'build')).toBeUndefined();
    expect(await store.get(gone.uid)).toBeUndefined();
    expect((await store.counts()).SUCCESSFUL + (await store.counts()).FAILED).toBe(kept.length);

    await expect(store.applyRetention({ FAILED: { keep: -1 } }, now)).rejects.toThrow(
      'retention of FAILED: keep: expected an integer from 0, got -1',
    );
  });

  it('migrates once when several processes start on the same database at once', async () => {
    const config = await backend.config();
    const opener = join(import.meta.dirname, 'fixtures', 'archive-open.ts');
    const replicas = Array.from({ length: 3 }, () =>
      spawn(process.execPath, ['--import', 'tsx', opener, JSON.stringify(config)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const exits = replicas.map(
      (child) =>
        new Promise<{ code: number | null; stderr: string }>((done) => {
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('exit', (code) => done({ code, stderr }));
        }),
    );
    // Each loads first; then all open the archive at the same moment.
    await Promise.all(replicas.map((child) => once(child.stdout, 'data')));
    for (const child of replicas) child.stdin.write('go\n');
    expect(await Promise.all(exits)).toEqual(replicas.map(() => ({ code: 0, stderr: '' })));
    const versions = await backend.query(
      config,
      'select version from chainr_archive_schema order by version',
    );
    expect(versions.map((v) => Number(v.version))).toEqual(MIGRATIONS.map((m) => m.version));
    // And the schema works: a store opened afterwards archives and lists.
    const store = await openArchive(config);
    opened.push(store);
    await store.archive(endedRun(T0), {}, T0);
    expect((await store.list(10)).runs).toHaveLength(1);
  });
});
