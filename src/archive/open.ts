/**
 * Opens the archive on its backend and brings its schema up to date: a SQLite file for one
 * machine, or PostgreSQL (a connection URL; what it leaves out, pg takes from the PG* variables).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrate } from './migrate.ts';
import type { ArchiveDatabase } from './schema.ts';
import { ArchiveStore } from './store.ts';

export type ArchiveConfig =
  | { backend: 'sqlite'; /** The database file. */ path: string }
  | {
      backend: 'postgres';
      /** postgres:// or postgresql:// URL (sslmode=... for TLS); `postgres://` alone: PG* only. */
      url: string;
      /** Connections the pool opens at most. */
      maxConnections?: number;
    };

/** How long a SQLite writer waits for another process's write lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/** bigint columns hold ms since the epoch and counts: well within a double's exact integers. */
function getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === (pg.types.builtins.INT8 as number)) return Number;
  return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
}
const pgTypes = { getTypeParser };

function connect(config: ArchiveConfig): Kysely<ArchiveDatabase> {
  if (config.backend === 'sqlite') {
    mkdirSync(dirname(config.path), { recursive: true });
    const database = new Database(config.path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    // Readers do not wait for the writer, nor it for them; synchronous stays FULL (the default)
    // so that a committed run survives a power cut before it leaves Redis.
    database.pragma('journal_mode = WAL');
    return new Kysely({ dialect: new SqliteDialect({ database }) });
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.maxConnections ?? 10,
    types: pgTypes,
  });
  // An idle connection the server dropped: the pool replaces it, and the next query that cannot
  // get one reports the outage. Unhandled, the event would end the process.
  pool.on('error', () => undefined);
  return new Kysely({ dialect: new PostgresDialect({ pool }) });
}

/** The archive, its schema migrated (safe with several replicas starting at once). */
export async function openArchive(config: ArchiveConfig, now = Date.now()): Promise<ArchiveStore> {
  const db = connect(config);
  try {
    await migrate(db, config.backend, now);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new ArchiveStore(db, config.backend);
}
