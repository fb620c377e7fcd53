/**
 * Brings the archive's schema to the newest migration (schema.ts), at start. Several replicas may
 * start at once: on PostgreSQL each waits for a transaction-scoped advisory lock, on SQLite for the
 * database's write lock (BEGIN IMMEDIATE); the first applies what is missing, the others find it
 * done. Everything runs in that one transaction, so a crash mid-way leaves the schema as it was.
 */
import { sql, type Kysely } from 'kysely';
import { MIGRATIONS, type ArchiveDatabase, type ArchiveDialect } from './schema.ts';

/** The advisory lock every replica takes to migrate: any fixed number, the same for all. */
const MIGRATION_LOCK = 1_667_785_074;

/** Applies the migrations the database lacks; returns their versions. */
export async function migrate(
  db: Kysely<ArchiveDatabase>,
  dialect: ArchiveDialect,
  now: number,
): Promise<number[]> {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  return db.connection().execute(async (conn) => {
    await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    try {
      if (dialect === 'postgres')
        await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(conn);
      await sql`create table if not exists chainr_archive_schema (
        version integer primary key,
        applied_at bigint not null
      )`.execute(conn);
      const row = await conn
        .selectFrom('chainr_archive_schema')
        .select((eb) => eb.fn.max('version').as('version'))
        .executeTakeFirst();
      const current = Number(row?.version ?? 0);
      if (current > latest)
        throw new Error(
          `the archive's schema is at version ${current}, newer than this chainr knows (${latest}): run a chainr at least as new as the one that migrated it`,
        );
      const applied: number[] = [];
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        await migration.up(conn, dialect);
        await conn
          .insertInto('chainr_archive_schema')
          .values({ version: migration.version, applied_at: now })
          .execute();
        applied.push(migration.version);
      }
      await sql`commit`.execute(conn);
      return applied;
    } catch (err) {
      // A rollback that fails means the connection is gone, which ends the transaction as well:
      // the error worth reporting is the first one.
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
