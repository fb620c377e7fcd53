/**
 * The archive (issue #22) on a real PostgreSQL started here (fsync off, as in the tests: the
 * server's disk is not what is measured): archive throughput with ArchiveStore.archiveMany (target
 * 1,000 runs/s of 10 jobs), the archive's bytes per run, then the list page's latency with many
 * runs archived (target p99 ≤ 20 ms at 100 requests/s). The list is read through ArchiveStore,
 * the query GET /api/runs makes of the archive; the runs it reads are bulk-inserted in SQL.
 */
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { openArchive } from '../../src/archive/open.ts';
import type { ArchiveStore, JobLogs } from '../../src/archive/store.ts';
import type { RunFilter } from '../../src/store/runs.ts';
import type { JobRecord, RunRecord } from '../../src/store/run-hash.ts';
import { startPostgres } from '../../test/fixtures/postgres-server.ts';
import type { BenchContext, WorkloadResult } from '../batch.ts';
import { percentile, round, sleep, spreads } from '../stats.ts';

const JOBS_PER_RUN = 10;
const LOG_LINES_PER_JOB = 20;
/** Runs per archiveMany call: what an archiver moves per transaction. */
const BATCH = 500;
const LIST_RATE = 100;
const PAGE = 50;
const THROUGHPUT_TARGET = 1000;
const LIST_P99_TARGET_MS = 20;

/** An ended run of 10 jobs, each with outputs and a log of 20 lines, as the live store holds it. */
export function syntheticRun(createdAt: number): { run: RunRecord; logs: JobLogs } {
  const jobs = Array.from({ length: JOBS_PER_RUN }, (_, j): JobRecord => ({
    name: `step-${j}`,
    status: 'SUCCESSFUL',
    attempt: 1,
    startedAt: createdAt + 10 * j,
    finishedAt: createdAt + 10 * j + 900,
    exitCode: 0,
    attempts: [],
    executor: 'kubernetes',
    queued: true,
    tolerated: false,
    outputs: { rows: String(createdAt % 1000) },
  }));
  const run: RunRecord = {
    uid: uuidv7({ msecs: createdAt }),
    status: 'SUCCESSFUL',
    name: 'nightly-etl',
    labels: { team: 'data', tier: 'prod' },
    params: { date: '2026-03-01' },
    createdAt,
    startedAt: createdAt + 5,
    finishedAt: createdAt + 1000,
    jobs,
    pipeline: {
      kind: 'Pipeline',
      metadata: { name: 'nightly-etl' },
      jobs: Object.fromEntries(
        jobs.map((j, i) => [
          j.name,
          {
            image: 'registry.example/etl:1.4',
            run: `etl --step ${i}`,
            ...(i > 0 && { dependsOn: [{ job: `step-${i - 1}` }] }),
          },
        ]),
      ),
    },
  };
  const logs = Object.fromEntries(
    jobs.map((j) => [
      j.name,
      Array.from({ length: LOG_LINES_PER_JOB }, (_, k) => ({
        line: `${new Date(createdAt + k).toISOString()} ${j.name}: copied ${k * 1000 + (createdAt % 997)} rows`,
        stream: 'stdout' as const,
        attempt: 1,
      })),
    ]),
  );
  return { run, logs };
}

/** Archives `count` runs in batches; runs per second and this process's CPU per run. */
async function archiveThroughput(store: ArchiveStore, count: number, t0: number) {
  let made = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  while (made < count) {
    const n = Math.min(BATCH, count - made);
    const items = Array.from({ length: n }, (_, i) => syntheticRun(t0 + made + i));
    await store.archiveMany(items, Date.now());
    made += n;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    runs_per_s: round(count / seconds),
    chainr_cpu_per_run_ms: round((cpu.user + cpu.system) / 1000 / count),
  };
}

/**
 * `count` runs inserted in SQL (generate_series) after the ones there, as list pages read them:
 * UUIDv7-shaped uids in creation order, a status and name of a few, two labels, 10 jobs.
 */
async function bulkFill(client: pg.Client, count: number, t0: number): Promise<void> {
  const { run } = syntheticRun(t0);
  const jobs = JSON.stringify(run.jobs);
  const chunk = 100_000;
  for (let from = 0; from < count; from += chunk) {
    const to = Math.min(count, from + chunk) - 1;
    await client.query(
      `with s as (
         select i, lpad(to_hex($1::bigint + i), 12, '0') as ts from generate_series($2::int, $3::int) i
       )
       insert into chainr_runs (uid, name, status, reason, created_at, started_at, finished_at,
                                archived_at, labels, params, jobs, pipeline)
       select substr(ts, 1, 8) || '-' || substr(ts, 9, 4) || '-7000-8000-' || lpad(to_hex(i), 12, '0'),
              (array['nightly-etl', 'deploy', 'report', 'backup'])[i % 4 + 1],
              (array['SUCCESSFUL', 'SUCCESSFUL', 'SUCCESSFUL', 'FAILED', 'CANCELED'])[i % 5 + 1],
              null, $1::bigint + i, $1::bigint + i + 5, $1::bigint + i + 1000, $1::bigint + i,
              '{"team":"' || (array['data', 'web', 'ops'])[i % 3 + 1] || '","tier":"prod"}',
              '{}', $4, '{}'
       from s`,
      [t0, from, to, jobs],
    );
  }
  await client.query(
    `insert into chainr_run_labels (run_uid, key, value)
    select uid, 'team', labels::json->>'team' from chainr_runs
    where created_at >= $1 on conflict do nothing`,
    [t0],
  );
  await client.query('analyze');
}

/** One list request of each kind, as the runs page and the CLI make them. */
function listRequests(newest: string[]): { kind: string; filter: RunFilter; after?: string }[] {
  const deep = newest[newest.length - 1];
  return [
    { kind: 'first_page', filter: {} },
    { kind: 'next_page', filter: {}, after: deep },
    { kind: 'by_name', filter: { name: 'deploy' } },
    { kind: 'by_status', filter: { status: 'FAILED' } },
    { kind: 'by_label', filter: { selector: [{ key: 'team', op: '=', value: 'ops' }] } },
  ];
}

/**
 * List pages at a fixed offered rate for `seconds`, the kinds in turn; each latency counts from
 * when the request was due, so a slow answer that delays the next ones is counted in them too.
 */
async function listLatency(store: ArchiveStore, seconds: number) {
  const first = await store.list(PAGE * 20);
  const kinds = listRequests(first.runs.map((r) => r.uid));
  const total = LIST_RATE * seconds;
  const latencies: number[] = [];
  const byKind = new Map<string, number[]>();
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / LIST_RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const request = kinds[i % kinds.length] as (typeof kinds)[number];
    pending.push(
      store.list(PAGE, request.after, request.filter).then(() => {
        const ms = performance.now() - due;
        latencies.push(ms);
        byKind.set(request.kind, [...(byKind.get(request.kind) ?? []), ms]);
      }),
    );
  }
  await Promise.all(pending);
  return {
    list_p50_ms: round(percentile(latencies, 50)),
    list_p99_ms: round(percentile(latencies, 99)),
    ...Object.fromEntries(
      [...byKind].map(([kind, ms]) => [`list_${kind}_p99_ms`, round(percentile(ms, 99))]),
    ),
  };
}

export async function archiveWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const reps = ctx.quick ? 1 : 3;
  const archived = ctx.quick ? 1000 : 5000;
  const listed = ctx.quick ? 100_000 : 1_000_000;
  const listSeconds = ctx.quick ? 5 : 20;
  const server = await startPostgres();
  try {
    const url = await server.createDatabase();
    const store = await openArchive({ backend: 'postgres', url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const throughput: Record<string, number>[] = [];
      for (let rep = 0; rep < reps; rep++) {
        const figures = await archiveThroughput(store, archived, t0 + rep * archived);
        ctx.log(`  archived ${archived} runs: ${figures.runs_per_s} runs/s`);
        throughput.push(figures);
      }
      const size = await client.query<{ bytes: string; runs: string }>(
        `select (select count(*) from chainr_runs) as runs,
           pg_total_relation_size('chainr_runs') + pg_total_relation_size('chainr_run_labels') +
           pg_total_relation_size('chainr_job_attempts') + pg_total_relation_size('chainr_log_parts') +
           pg_total_relation_size('chainr_log_spans') as bytes`,
      );
      const row = size.rows[0];
      const bytesPerRun = Number(row?.bytes) / Number(row?.runs);

      const fillStarted = performance.now();
      await bulkFill(client, listed, t0 + reps * archived);
      const fillSeconds = (performance.now() - fillStarted) / 1000;
      ctx.log(`  filled ${listed} runs in ${Math.round(fillSeconds)} s`);
      // Warm-up, not counted: the pool's connections opened, the indexes' pages read once.
      await listLatency(store, 2);
      const listing: Record<string, number>[] = [];
      for (let rep = 0; rep < reps; rep++) listing.push(await listLatency(store, listSeconds));
      return {
        archive: {
          chainr: {
            runs_archived_per_rep: archived,
            jobs_per_run: JOBS_PER_RUN,
            batch: BATCH,
            ...spreads(throughput),
            throughput_target_runs_per_s: THROUGHPUT_TARGET,
            bytes_per_archived_run: Math.round(bytesPerRun),
            runs_listed_from: listed + reps * archived,
            bulk_fill_s: round(fillSeconds),
            list_rate_per_s: LIST_RATE,
            page: PAGE,
            ...spreads(listing),
            list_p99_target_ms: LIST_P99_TARGET_MS,
          },
          baseline: null,
          ratio: null,
          ratio_of: null,
        },
      };
    } finally {
      await client.end();
      await store.close();
    }
  } finally {
    await server.stop();
  }
}
