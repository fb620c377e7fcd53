/**
 * The archive's tables, as Kysely sees them, and the versioned migrations that make them. Times
 * are ms since the epoch (bigint); JSON is stored as text, the same on both backends.
 */
import { sql, type Kysely } from 'kysely';

export type ArchiveDialect = 'sqlite' | 'postgres';

export interface RunsTable {
  /** UUIDv7: its byte order is its creation order, the order every list follows. */
  uid: string;
  name: string | null;
  status: string;
  reason: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number;
  archived_at: number;
  /** JSON object of strings. */
  labels: string;
  /** JSON object of strings. */
  params: string;
  /** JSON: the jobs as the run record holds them (JobRecord[]), attempts and outputs included. */
  jobs: string;
  /** JSON: the pipeline as submitted; read for one run, never for a list page. */
  pipeline: string;
}

/** One row per label of a run: what the label selectors query. */
export interface RunLabelsTable {
  run_uid: string;
  key: string;
  value: string;
}

/** One row per attempt of every job: what duration and failure trends aggregate. */
export interface JobAttemptsTable {
  run_uid: string;
  job: string;
  attempt: number;
  status: string;
  executor: string;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  reason: string | null;
}

/**
 * A job's log, compressed alone: how archives before schema version 2 stored logs, read still,
 * written no more (LogPartsTable and LogSpansTable since).
 */
export interface JobLogsTable {
  run_uid: string;
  job: string;
  /** How `data` is encoded (log-codec.ts). */
  encoding: string;
  lines: number;
  /** Bytes of the lines' text before compression. */
  bytes: number;
  data: Buffer;
}

/** A run's jobs' logs, compressed together, in one or more parts (log-codec.ts). */
export interface LogPartsTable {
  run_uid: string;
  part: number;
  /** How `data` is encoded (log-codec.ts). */
  encoding: string;
  data: Buffer;
}

/** Where a job's log lies in its run's parts: bytes [first_byte, end_byte) of a part, inflated. */
export interface LogSpansTable {
  run_uid: string;
  job: string;
  part: number;
  first_byte: number;
  end_byte: number;
  lines: number;
  /** Bytes of the lines' text. */
  bytes: number;
}

export interface SchemaTable {
  version: number;
  applied_at: number;
}

export interface ArchiveDatabase {
  chainr_runs: RunsTable;
  chainr_run_labels: RunLabelsTable;
  chainr_job_attempts: JobAttemptsTable;
  chainr_job_logs: JobLogsTable;
  chainr_log_parts: LogPartsTable;
  chainr_log_spans: LogSpansTable;
  chainr_archive_schema: SchemaTable;
}

export interface Migration {
  version: number;
  description: string;
  up(db: Kysely<ArchiveDatabase>, dialect: ArchiveDialect): Promise<void>;
}

/** The column types the backends spell differently. */
function columnTypes(dialect: ArchiveDialect) {
  return {
    // PostgreSQL compares text by the database's locale unless told otherwise; uids must
    // compare byte by byte for newest-first order and the continue cursor.
    uid: dialect === 'postgres' ? sql.raw('text collate "C"') : sql.raw('text'),
    blob: dialect === 'postgres' ? sql.raw('bytea') : sql.raw('blob'),
  };
}

/**
 * Every migration, oldest first. A released migration is never edited: a change of schema is a
 * new one with the next version.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, their labels, job attempts and compressed logs',
    async up(db, dialect) {
      const { uid, blob } = columnTypes(dialect);
      const statements = [
        sql`create table chainr_runs (
          uid ${uid} primary key,
          name text,
          status text not null,
          reason text,
          created_at bigint not null,
          started_at bigint,
          finished_at bigint not null,
          archived_at bigint not null,
          labels text not null,
          params text not null,
          jobs text not null,
          pipeline text not null
        )`,
        sql`create index chainr_runs_by_status on chainr_runs (status, uid)`,
        sql`create index chainr_runs_by_name on chainr_runs (name, uid)`,
        sql`create index chainr_runs_by_end on chainr_runs (status, finished_at)`,
        sql`create table chainr_run_labels (
          run_uid ${uid} not null,
          key text not null,
          value text not null,
          primary key (run_uid, key)
        )`,
        sql`create index chainr_run_labels_by_value on chainr_run_labels (key, value, run_uid)`,
        sql`create table chainr_job_attempts (
          run_uid ${uid} not null,
          job text not null,
          attempt integer not null,
          status text not null,
          executor text not null,
          started_at bigint,
          finished_at bigint,
          exit_code integer,
          reason text,
          primary key (run_uid, job, attempt)
        )`,
        sql`create table chainr_job_logs (
          run_uid ${uid} not null,
          job text not null,
          encoding text not null,
          lines integer not null,
          bytes bigint not null,
          data ${blob} not null,
          primary key (run_uid, job)
        )`,
      ];
      for (const statement of statements) await statement.execute(db);
    },
  },
  {
    version: 2,
    description: "a run's logs compressed together in parts, each job's span in them",
    async up(db, dialect) {
      const { uid, blob } = columnTypes(dialect);
      const statements = [
        sql`create table chainr_log_parts (
          run_uid ${uid} not null,
          part integer not null,
          encoding text not null,
          data ${blob} not null,
          primary key (run_uid, part)
        )`,
        sql`create table chainr_log_spans (
          run_uid ${uid} not null,
          job text not null,
          part integer not null,
          first_byte bigint not null,
          end_byte bigint not null,
          lines integer not null,
          bytes bigint not null,
          primary key (run_uid, job)
        )`,
      ];
      for (const statement of statements) await statement.execute(db);
    },
  },
];
