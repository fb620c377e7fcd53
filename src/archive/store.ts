/**
 * The archive of ended runs in SQL (SQLite or PostgreSQL, through Kysely): archive a run with its
 * logs, read it back as the live store would give it (RunRecord, for the same views), list runs
 * newest first with the live list's filters and cursor, and apply retention in batches.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { MAX_TREND_DAYS } from '../api/wire.ts';
import type { Requirement } from '../core/selector.ts';
import { isTerminalRun, RUN_STATUSES, type RunStatus } from '../core/types.ts';
import type { RunRecord, RunSummary } from '../store/run-hash.ts';
import type { RunFilter } from '../store/runs.ts';
import {
  decodeLog,
  packLogs,
  readSpan,
  type ArchivedLogLine,
  type PackedLogs,
} from './log-codec.ts';
import type { ArchiveDatabase, ArchiveDialect, JobAttemptsTable, RunsTable } from './schema.ts';

/** How long ended runs stay in the archive, per status: by age (since they ended) and by count. */
export type ArchiveRetention = Partial<
  Record<RunStatus, { maxAgeMs?: number; /** The newest this many are kept. */ keep?: number }>
>;

/** A run's jobs' logs, by job name. */
export type JobLogs = Readonly<Record<string, readonly ArchivedLogLine[]>>;

const DAY_MS = 86_400_000;
/** The most runs a trend draws one by one (the newest of the window). */
export const MAX_TREND_RUNS = 1000;
/** The most jobs a trend ranks by duration. */
export const MAX_TREND_JOBS = 50;

/** One ended run of a pipeline, as the duration trend draws it. */
export interface TrendRun {
  uid: string;
  status: RunStatus;
  createdAt: number;
  finishedAt: number;
  /** From its start (its creation if it never started) to its end. */
  durationMs: number;
}

/** The runs of a pipeline that ended on one UTC day, by how they ended. */
export interface TrendDay {
  /** YYYY-MM-DD, UTC. */
  day: string;
  successful: number;
  failed: number;
  canceled: number;
}

/** A job name's finished attempts in the window: how long they took. */
export interface JobTrend {
  job: string;
  attempts: number;
  avgMs: number;
  /** The nearest-rank 95th percentile. */
  p95Ms: number;
  maxMs: number;
}

export interface PipelineTrends {
  /** The newest ended runs of the window (at most `maxRuns`), oldest first. */
  runs: TrendRun[];
  /** Every day of the window, oldest first, days without runs included. */
  days: TrendDay[];
  /** The jobs with the longest 95th percentile first (at most `maxJobs`). */
  slowestJobs: JobTrend[];
}

export interface TrendQuery {
  /** The window: the last `days` UTC days, today included. */
  days: number;
  now: number;
  /**
   * Ended runs not (or not yet) in the archive, counted with the archived ones: those of the
   * pipeline that ended in the window and are not archived already, so a run moving from one store
   * to the other is counted once.
   */
  live?: readonly RunSummary[];
  maxRuns?: number;
  maxJobs?: number;
}

/** Runs' logs compressed at once: as many as libuv's default thread pool runs (long logs). */
const COMPRESSIONS_AT_ONCE = 4;

/** How a column travels in a JSON parameter (ArchiveStore.jsonRows). */
type JsonColumn = 'text' | 'bigint' | 'blob';

const RUN_COLUMN_TYPES: Record<keyof RunsTable, JsonColumn> = {
  uid: 'text',
  name: 'text',
  status: 'text',
  reason: 'text',
  created_at: 'bigint',
  started_at: 'bigint',
  finished_at: 'bigint',
  archived_at: 'bigint',
  labels: 'text',
  params: 'text',
  jobs: 'text',
  pipeline: 'text',
};
const RUN_COLUMNS = Object.keys(RUN_COLUMN_TYPES);
/** Runs deleted per transaction by retention: short transactions that never stall the others. */
export const DEFAULT_RETENTION_BATCH = 500;
/** The most runs one list page may ask for. */
export const MAX_PAGE = 1000;

const SUMMARY_COLUMNS = [
  'uid',
  'name',
  'status',
  'reason',
  'created_at',
  'started_at',
  'finished_at',
  'labels',
  'params',
  'jobs',
] as const;

/** What a later end of an archived run replaces: every column but its uid. */
const REPLACED_COLUMNS = RUN_COLUMNS.filter((c) => c !== 'uid');

/** The tables that hold a run's other rows, by its uid. */
const CHILD_TABLES = [
  'chainr_log_spans',
  'chainr_log_parts',
  'chainr_job_logs',
  'chainr_job_attempts',
  'chainr_run_labels',
] as const;

type SummaryRow = Pick<RunsTable, (typeof SUMMARY_COLUMNS)[number]>;

const optional = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function summaryOf(row: SummaryRow): RunSummary {
  return {
    uid: row.uid,
    status: row.status as RunStatus,
    reason: optional(row.reason),
    name: optional(row.name),
    labels: JSON.parse(row.labels) as RunSummary['labels'],
    params: JSON.parse(row.params) as RunSummary['params'],
    createdAt: Number(row.created_at),
    startedAt: row.started_at === null ? undefined : Number(row.started_at),
    finishedAt: Number(row.finished_at),
    jobs: JSON.parse(row.jobs) as RunSummary['jobs'],
  };
}

function runRow(run: RunRecord, now: number): RunsTable {
  return {
    uid: run.uid,
    name: run.name ?? null,
    status: run.status,
    reason: run.reason ?? null,
    created_at: run.createdAt,
    started_at: run.startedAt ?? null,
    finished_at: run.finishedAt as number,
    archived_at: now,
    labels: JSON.stringify(run.labels),
    params: JSON.stringify(run.params),
    jobs: JSON.stringify(run.jobs),
    pipeline: JSON.stringify(run.pipeline),
  };
}

/** Every attempt of every job, the current one included, as rows. */
function attemptRows(run: Pick<RunSummary, 'uid' | 'jobs'>): JobAttemptsTable[] {
  return run.jobs.flatMap((job) =>
    [
      ...job.attempts,
      {
        attempt: job.attempt,
        status: job.status,
        startedAt: job.startedAt,
        finishedAt: job.finishedAt,
        exitCode: job.exitCode,
        reason: job.reason,
      },
    ].map((a) => ({
      run_uid: run.uid,
      job: job.name,
      attempt: a.attempt,
      status: a.status,
      executor: job.executor,
      started_at: a.startedAt ?? null,
      finished_at: a.finishedAt ?? null,
      exit_code: a.exitCode ?? null,
      reason: a.reason ?? null,
    })),
  );
}

/** A run's label requirement as a condition on its label rows (core/selector.ts: matches). */
function labelCondition(
  eb: ExpressionBuilder<ArchiveDatabase, 'chainr_runs'>,
  r: Requirement,
): Expression<SqlBool> {
  const labelled = (value?: string) => {
    let rows = eb
      .selectFrom('chainr_run_labels')
      .select(sql.lit(1).as('one'))
      .whereRef('chainr_run_labels.run_uid', '=', 'chainr_runs.uid')
      .where('chainr_run_labels.key', '=', r.key);
    if (value !== undefined) rows = rows.where('chainr_run_labels.value', '=', value);
    return eb.exists(rows);
  };
  switch (r.op) {
    case '=':
      return labelled(r.value);
    case '!=':
      return eb.not(labelled(r.value));
    case 'exists':
      return labelled();
    case '!exists':
      return eb.not(labelled());
  }
}

function checkCount(what: string, value: number | undefined, min: number, max = Infinity) {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max))
    throw new RangeError(
      `${what}: expected an integer from ${min}${max === Infinity ? '' : ` to ${max}`}, got ${value}`,
    );
}

export class ArchiveStore {
  constructor(
    private readonly db: Kysely<ArchiveDatabase>,
    private readonly dialect: ArchiveDialect,
  ) {}

  /**
   * Stores an ended run with its jobs' logs (by job name) in one transaction. Idempotent: a run
   * already archived with the same end is left as it is and the answer is false; a later end of
   * it (the run was retried after it was archived, before it left Redis) replaces that copy.
   */
  async archive(run: RunRecord, logs: JobLogs, now: number): Promise<boolean> {
    return (await this.archiveMany([{ run, logs }], now)).length === 1;
  }

  /**
   * Stores ended runs with their logs in one transaction (a few statements for all of them, which
   * is what makes archiving fast); returns the uids stored now. Idempotent as `archive` is: a run
   * already archived, before or by another archiver at the same moment, is left as it is unless
   * this copy ended later.
   */
  async archiveMany(
    items: readonly { run: RunRecord; logs: JobLogs }[],
    now: number,
  ): Promise<string[]> {
    const uids = new Set<string>();
    for (const { run, logs } of items) {
      if (!isTerminalRun(run.status))
        throw new Error(`run ${run.uid} is ${run.status}: only a run that has ended is archived`);
      if (run.finishedAt === undefined)
        throw new Error(
          `run ${run.uid} is ${run.status} but has no end time: it cannot be archived`,
        );
      const jobNames = new Set(run.jobs.map((j) => j.name));
      const stranger = Object.keys(logs).find((job) => !jobNames.has(job));
      if (stranger !== undefined)
        throw new Error(`run ${run.uid} has no job "${stranger}", yet a log was given for it`);
      if (uids.has(run.uid)) throw new Error(`run ${run.uid} is given twice to archive`);
      uids.add(run.uid);
    }
    if (items.length === 0) return [];
    // Compressed before the transaction opens: it holds its locks for the writes alone. Short
    // logs are compressed on this thread, long ones by zlib's pool: as many runs at a time as it
    // has threads (4 by default).
    const packed = new Array<PackedLogs>(items.length);
    let next = 0;
    const compress = async () => {
      for (let i = next++; i < items.length; i = next++)
        packed[i] = await packLogs((items[i] as (typeof items)[number]).logs);
    };
    await Promise.all(Array.from({ length: COMPRESSIONS_AT_ONCE }, compress));
    // Every table's rows in one statement, sent as one JSON parameter: far cheaper to build, send
    // and plan than thousands of bound values, and no limit on their count.
    return this.db.transaction().execute(async (trx) => {
      const runRows = items.map(({ run }) => runRow(run, now));
      const inserted = await sql<{ uid: string }>`insert into chainr_runs (${sql.raw(
        RUN_COLUMNS.join(', '),
      )}) ${this.jsonRows(runRows, RUN_COLUMN_TYPES)} where true
        on conflict (uid) do update set ${sql.raw(
          REPLACED_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', '),
        )} where chainr_runs.finished_at < excluded.finished_at
        returning uid`.execute(trx);
      const stored = new Set(inserted.rows.map((r) => r.uid));
      // A run already there with the same end (archived before, or by another archiver just now,
      // whose insert this one waited for) has the rest of its rows too: only the runs stored now
      // get theirs, those of a replaced copy first removed.
      const fresh = items.map((i) => i.run).filter((run) => stored.has(run.uid));
      if (fresh.length > 0) {
        const uids = this.jsonRows(
          fresh.map((run) => ({ run_uid: run.uid })),
          { run_uid: 'text' },
        );
        for (const table of CHILD_TABLES)
          await sql`delete from ${sql.table(table)} where run_uid in (${uids})`.execute(trx);
      }
      const labels = fresh.flatMap((run) =>
        Object.entries(run.labels).map(([key, value]) => ({ run_uid: run.uid, key, value })),
      );
      await this.insertJson(trx, 'chainr_run_labels', labels, {
        run_uid: 'text',
        key: 'text',
        value: 'text',
      });
      await this.insertJson(trx, 'chainr_job_attempts', fresh.flatMap(attemptRows), {
        run_uid: 'text',
        job: 'text',
        attempt: 'bigint',
        status: 'text',
        executor: 'text',
        started_at: 'bigint',
        finished_at: 'bigint',
        exit_code: 'bigint',
        reason: 'text',
      });
      const freshLogs = items.flatMap(({ run }, i) =>
        stored.has(run.uid) ? [{ uid: run.uid, logs: packed[i] as PackedLogs }] : [],
      );
      await this.insertJson(
        trx,
        'chainr_log_parts',
        freshLogs.flatMap(({ uid, logs }) =>
          logs.parts.map((p) => ({ run_uid: uid, ...p, data: p.data.toString('hex') })),
        ),
        { run_uid: 'text', part: 'bigint', encoding: 'text', data: 'blob' },
      );
      await this.insertJson(
        trx,
        'chainr_log_spans',
        freshLogs.flatMap(({ uid, logs }) =>
          logs.spans.map((s) => ({
            run_uid: uid,
            job: s.job,
            part: s.part,
            first_byte: s.from,
            end_byte: s.to,
            lines: s.lines,
            bytes: s.bytes,
          })),
        ),
        {
          run_uid: 'text',
          job: 'text',
          part: 'bigint',
          first_byte: 'bigint',
          end_byte: 'bigint',
          lines: 'bigint',
          bytes: 'bigint',
        },
      );
      return fresh.map((run) => run.uid);
    });
  }

  private async insertJson(
    trx: Kysely<ArchiveDatabase>,
    table: keyof ArchiveDatabase,
    rows: readonly object[],
    columns: Record<string, JsonColumn>,
  ): Promise<void> {
    if (rows.length === 0) return;
    await sql`insert into ${sql.table(table)} (${sql.raw(Object.keys(columns).join(', '))})
      ${this.jsonRows(rows, columns)}`.execute(trx);
  }

  /** An archived run, as the live store reads one (RunStore.get); undefined if not archived. */
  async get(uid: string): Promise<RunRecord | undefined> {
    const row = await this.db
      .selectFrom('chainr_runs')
      .select([...SUMMARY_COLUMNS, 'pipeline'])
      .where('uid', '=', uid)
      .executeTakeFirst();
    return (
      row && { ...summaryOf(row), pipeline: JSON.parse(row.pipeline) as RunRecord['pipeline'] }
    );
  }

  /**
   * One page of archived runs, newest first, with the live list's filters (RunStore.list) and its
   * cursor: `after` is the last uid of the previous page, `next` that of this one when more follow.
   * The filters are applied in SQL, so a page is short only when it is the last.
   */
  async list(
    limit: number,
    after?: string,
    filter: RunFilter = {},
  ): Promise<{ runs: RunSummary[]; next?: string }> {
    checkCount('limit', limit, 1, MAX_PAGE);
    let query = this.db
      .selectFrom('chainr_runs')
      .select(SUMMARY_COLUMNS)
      .orderBy('uid', 'desc')
      .limit(limit + 1);
    if (after !== undefined) query = query.where('uid', '<', after);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.name !== undefined) query = query.where('name', '=', filter.name);
    for (const requirement of filter.selector ?? [])
      query = query.where((eb) => labelCondition(eb, requirement));
    const rows = await query.execute();
    const runs = rows.slice(0, limit).map(summaryOf);
    return { runs, next: rows.length > limit ? runs[runs.length - 1]?.uid : undefined };
  }

  /**
   * A job's archived log, oldest line first; undefined when no such run is archived or it has no
   * such job. A job that wrote nothing has an empty log.
   */
  async logs(uid: string, job: string): Promise<ArchivedLogLine[] | undefined> {
    const where = `archived log of run ${uid}, job "${job}"`;
    const span = await this.db
      .selectFrom('chainr_log_spans as s')
      .innerJoin('chainr_log_parts as p', (join) =>
        join.onRef('p.run_uid', '=', 's.run_uid').onRef('p.part', '=', 's.part'),
      )
      .select(['s.first_byte', 's.end_byte', 'p.encoding', 'p.data'])
      .where('s.run_uid', '=', uid)
      .where('s.job', '=', job)
      .executeTakeFirst();
    if (span) {
      const bytes = { from: Number(span.first_byte), to: Number(span.end_byte) };
      return readSpan(span.encoding, span.data, bytes, where);
    }
    // Archived before schema version 2: one compressed log per job.
    const row = await this.db
      .selectFrom('chainr_job_logs')
      .select(['encoding', 'data'])
      .where('run_uid', '=', uid)
      .where('job', '=', job)
      .executeTakeFirst();
    if (row) return decodeLog(row.encoding, row.data, where);
    const known = await this.db
      .selectFrom('chainr_job_attempts')
      .select('attempt')
      .where('run_uid', '=', uid)
      .where('job', '=', job)
      .limit(1)
      .executeTakeFirst();
    return known ? [] : undefined;
  }

  /**
   * Deletes the runs the retention rules no longer keep, `batchSize` runs per transaction; returns
   * how many went. Age counts from a run's end; `keep` keeps the newest runs of the status.
   */
  async applyRetention(
    rules: ArchiveRetention,
    now: number,
    batchSize = DEFAULT_RETENTION_BATCH,
  ): Promise<number> {
    checkCount('batch size', batchSize, 1, 10_000);
    let deleted = 0;
    for (const [status, rule] of Object.entries(rules) as [
      RunStatus,
      ArchiveRetention[RunStatus],
    ][]) {
      if (!RUN_STATUSES.includes(status))
        throw new RangeError(`retention: "${status}" is not a run status`);
      checkCount(`retention of ${status}: maxAgeMs`, rule?.maxAgeMs, 0);
      checkCount(`retention of ${status}: keep`, rule?.keep, 0);
      const { maxAgeMs, keep } = rule ?? {};
      if (maxAgeMs !== undefined)
        deleted += await this.deleteInBatches(batchSize, (limit) =>
          this.db
            .selectFrom('chainr_runs')
            .select('uid')
            .where('status', '=', status)
            .where('finished_at', '<', now - maxAgeMs)
            .limit(limit),
        );
      if (keep !== undefined)
        deleted += await this.deleteInBatches(batchSize, (limit) =>
          this.db
            .selectFrom('chainr_runs')
            .select('uid')
            .where('status', '=', status)
            .orderBy('uid', 'desc')
            .limit(limit)
            .offset(keep),
        );
    }
    return deleted;
  }

  private async deleteInBatches(
    batchSize: number,
    select: (limit: number) => { execute(): Promise<{ uid: string }[]> },
  ): Promise<number> {
    let deleted = 0;
    for (;;) {
      const uids = (await select(batchSize).execute()).map((r) => r.uid);
      if (uids.length === 0) return deleted;
      await this.db.transaction().execute(async (trx) => {
        for (const table of CHILD_TABLES)
          await trx.deleteFrom(table).where('run_uid', 'in', uids).execute();
        await trx.deleteFrom('chainr_runs').where('uid', 'in', uids).execute();
      });
      deleted += uids.length;
      if (uids.length < batchSize) return deleted;
    }
  }

  /**
   * A pipeline's trends over the last days, aggregated in SQL over the archived runs and the live
   * ones given: durations of its newest runs, how its runs ended per day, its slowest jobs.
   */
  async trends(name: string, query: TrendQuery): Promise<PipelineTrends> {
    const { days, now, maxRuns = MAX_TREND_RUNS, maxJobs = 10 } = query;
    checkCount('days', days, 1, MAX_TREND_DAYS);
    checkCount('maxRuns', maxRuns, 1, MAX_TREND_RUNS);
    checkCount('maxJobs', maxJobs, 1, MAX_TREND_JOBS);
    const firstDay = Math.floor(now / DAY_MS) - days + 1;
    const since = firstDay * DAY_MS;
    const live = (query.live ?? []).filter(
      (run) =>
        run.name === name &&
        isTerminalRun(run.status) &&
        run.finishedAt !== undefined &&
        run.finishedAt >= since,
    );
    // The live runs travel as one JSON parameter, read as rows by each backend's JSON functions:
    // one bound value however many there are.
    const liveRuns = this.jsonRows(
      live.map((run) => ({
        uid: run.uid,
        status: run.status,
        created_at: run.createdAt,
        started_at: run.startedAt ?? null,
        finished_at: run.finishedAt,
      })),
      {
        uid: 'text',
        status: 'text',
        created_at: 'bigint',
        started_at: 'bigint',
        finished_at: 'bigint',
      },
    );
    const liveAttempts = this.jsonRows(
      live
        .flatMap(attemptRows)
        .flatMap((a) =>
          a.started_at === null || a.finished_at === null
            ? []
            : [{ run_uid: a.run_uid, job: a.job, ms: a.finished_at - a.started_at }],
        ),
      { run_uid: 'text', job: 'text', ms: 'bigint' },
    );
    // The archive's uids compare byte by byte on PostgreSQL (schema.ts); the live ones are made to.
    const liveUid = this.dialect === 'postgres' ? sql`live.uid collate "C"` : sql`live.uid`;
    const archived = sql`select uid from chainr_runs where name = ${name} and finished_at >= ${since}`;
    const runs = sql`
      select uid, status, created_at, started_at, finished_at from chainr_runs
        where name = ${name} and finished_at >= ${since}
      union all
      select ${liveUid} as uid, status, created_at, started_at, finished_at from (${liveRuns}) live
        where not exists (select 1 from chainr_runs r where r.uid = live.uid)`;
    const attempts = sql`
      select a.job, a.finished_at - a.started_at as ms from chainr_job_attempts a
        where a.run_uid in (${archived})
          and a.started_at is not null and a.finished_at is not null
      union all
      select job, ms from (${liveAttempts}) live
        where not exists (select 1 from chainr_runs r where r.uid = live.run_uid)`;

    const newest = await sql<{
      uid: string;
      status: string;
      created_at: number;
      finished_at: number;
      duration_ms: number;
    }>`select uid, status, created_at, finished_at,
         finished_at - coalesce(started_at, created_at) as duration_ms
       from (${runs}) runs order by uid desc limit ${maxRuns}`.execute(this.db);
    const perDay = await sql<{ day: number; status: string; count: number }>`
      select finished_at / ${sql.lit(DAY_MS)} as day, status, count(*) as count
        from (${runs}) runs group by finished_at / ${sql.lit(DAY_MS)}, status`.execute(this.db);
    // Nearest rank: the 95th percentile is the smallest duration ranked at or past 95 % of them.
    const jobs = await sql<{
      job: string;
      attempts: number;
      avg_ms: number;
      p95_ms: number;
      max_ms: number;
    }>`select job, count(*) as attempts, avg(ms) as avg_ms, max(ms) as max_ms,
         min(case when rank * 100 >= 95 * total then ms end) as p95_ms
       from (
         select job, ms,
           row_number() over (partition by job order by ms) as rank,
           count(*) over (partition by job) as total
         from (${attempts}) attempts
       ) ranked
       group by job order by p95_ms desc, job limit ${maxJobs}`.execute(this.db);

    const counted = new Map<number, TrendDay>();
    for (let day = firstDay; day < firstDay + days; day++)
      counted.set(day, {
        day: new Date(day * DAY_MS).toISOString().slice(0, 10),
        successful: 0,
        failed: 0,
        canceled: 0,
      });
    for (const row of perDay.rows) {
      const entry = counted.get(Number(row.day));
      const key = ({ SUCCESSFUL: 'successful', FAILED: 'failed', CANCELED: 'canceled' } as const)[
        row.status as 'SUCCESSFUL' | 'FAILED' | 'CANCELED'
      ];
      if (entry && key) entry[key] += Number(row.count);
    }
    return {
      runs: newest.rows.reverse().map((row) => ({
        uid: row.uid,
        status: row.status as RunStatus,
        createdAt: Number(row.created_at),
        finishedAt: Number(row.finished_at),
        durationMs: Number(row.duration_ms),
      })),
      days: [...counted.values()],
      slowestJobs: jobs.rows.map((row) => ({
        job: row.job,
        attempts: Number(row.attempts),
        avgMs: Math.round(Number(row.avg_ms)),
        p95Ms: Number(row.p95_ms),
        maxMs: Number(row.max_ms),
      })),
    };
  }

  /**
   * `rows` as a table in a query, from one JSON parameter: the columns named, in that order, of
   * SQL type text or bigint, or blob (sent as hex).
   */
  private jsonRows(rows: readonly object[], columns: Record<string, JsonColumn>) {
    const json = JSON.stringify(rows);
    const names = Object.keys(columns);
    if (this.dialect === 'postgres') {
      const types = names.map((n) => `${n} ${columns[n] === 'blob' ? 'text' : columns[n]}`);
      const values = names.map((n) => (columns[n] === 'blob' ? `decode(${n}, 'hex')` : n));
      return sql`select ${sql.raw(values.join(', '))}
        from json_to_recordset(${json}::json) as rows(${sql.raw(types.join(', '))})`;
    }
    const values = names.map((n) =>
      columns[n] === 'blob'
        ? `unhex(json_extract(value, '$.${n}'))`
        : `json_extract(value, '$.${n}')`,
    );
    return sql`select ${sql.raw(values.map((v, i) => `${v} as ${names[i]}`).join(', '))}
      from json_each(${json})`;
  }

  /** Which of these runs the archive holds. */
  async holds(uids: readonly string[]): Promise<Set<string>> {
    if (uids.length === 0) return new Set();
    const asked = this.jsonRows(
      uids.map((uid) => ({ uid })),
      { uid: 'text' },
    );
    const rows = await sql<{
      uid: string;
    }>`select uid from chainr_runs where uid in (${asked})`.execute(this.db);
    return new Set(rows.rows.map((r) => r.uid));
  }

  /**
   * The archived runs whose uid starts or ends with `part` (hex digits and dashes), newest first,
   * at most `limit`: the live store's lookup by hand (RunStore.findByUidPart).
   */
  async findByUidPart(part: string, limit: number): Promise<RunSummary[]> {
    if (!/^[0-9a-f-]+$/.test(part))
      throw new RangeError(`uid part: expected hex digits and dashes, got "${part}"`);
    checkCount('limit', limit, 1, MAX_PAGE);
    const rows = await this.db
      .selectFrom('chainr_runs')
      .select(SUMMARY_COLUMNS)
      .where((eb) => eb.or([eb('uid', 'like', `${part}%`), eb('uid', 'like', `%${part}`)]))
      .orderBy('uid', 'desc')
      .limit(limit)
      .execute();
    return rows.map(summaryOf);
  }

  /** How many runs the archive holds in each status. */
  async counts(): Promise<Record<RunStatus, number>> {
    const rows = await this.db
      .selectFrom('chainr_runs')
      .select(['status', (eb) => eb.fn.countAll().as('count')])
      .groupBy('status')
      .execute();
    const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    for (const row of rows) counts[row.status as RunStatus] = Number(row.count);
    return counts;
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}
