/**
 * The archiver, one of recycle's steps: ended runs whose end is older than the archive window are
 * read from Redis with their logs, committed to the SQL archive, and only then deleted from Redis
 * (RunStore.delete: the run, its spec, logs and index entries). Safe with any number of recycle
 * replicas and with a kill at any line: archiving is idempotent (a second copy of a run is not
 * stored) and the deletion follows the commit, so a run is at worst archived twice (one copy) and
 * deleted once, never deleted unarchived.
 */
import type { ArchiveRetention, ArchiveStore, JobLogs } from '../../archive/store.ts';
import { isTerminalRun, RUN_STATUSES } from '../../core/types.ts';
import type { Keys } from '../../store/keys.ts';
import type { LogStore } from '../../store/logs.ts';
import type { RunRecord } from '../../store/run-hash.ts';
import type { RunStore } from '../../store/runs.ts';

export interface ArchiverOptions {
  archive: ArchiveStore;
  /** Ended runs stay in Redis this long after they ended; 0: archived at once. */
  windowMs: number;
  /** Runs archived per cycle at most: a backlog is worked off over several cycles. */
  perCycle: number;
  /** How long runs stay in the archive, by status; none: for ever. */
  retention?: ArchiveRetention;
}

/** Runs read, committed and deleted together: one transaction, a few statements. */
export const ARCHIVE_BATCH = 500;

/** A run's jobs' logs, as the archive stores them. */
async function logsOf(logs: LogStore, run: RunRecord): Promise<JobLogs> {
  const entries = await Promise.all(
    run.jobs.map(async (job) => {
      const lines = await logs.readAll(run.uid, job.name);
      return [job.name, lines.map(({ line, stream, attempt }) => ({ line, stream, attempt }))];
    }),
  );
  return Object.fromEntries(entries) as JobLogs;
}

/**
 * Moves the ended runs past the window to the archive, oldest first, each status index in turn;
 * returns how many left Redis.
 */
export async function archiveEnded(
  stores: { runs: RunStore; logs: LogStore; keys: Keys },
  options: ArchiverOptions,
  now: number,
): Promise<number> {
  const { runs, logs, keys } = stores;
  const cutoff = now - options.windowMs;
  let moved = 0;
  for (const status of RUN_STATUSES.filter(isTerminalRun)) {
    let after: string | undefined;
    while (moved < options.perCycle) {
      const batch = Math.min(ARCHIVE_BATCH, options.perCycle - moved);
      const uids = await runs.oldest(keys.runsByStatus(status), batch, after);
      after = uids[uids.length - 1];
      const read = await Promise.all(uids.map((uid) => runs.get(uid)));
      const due = read.filter(
        (run): run is RunRecord =>
          run !== undefined &&
          run.status === status &&
          run.finishedAt !== undefined &&
          run.finishedAt <= cutoff,
      );
      if (due.length > 0) {
        const items = await Promise.all(
          due.map(async (run) => ({ run, logs: await logsOf(logs, run) })),
        );
        await options.archive.archiveMany(items, now);
        // Committed: now, and only now, they may leave Redis (each unless retried meanwhile).
        const deleted = await Promise.all(due.map((run) => runs.delete(run)));
        moved += deleted.filter(Boolean).length;
      }
      // Uids are time-ordered: once a run was created after the cutoff, every later one ended
      // after it too.
      const younger = read.some((run) => run !== undefined && run.createdAt > cutoff);
      if (younger || uids.length < batch) break;
    }
  }
  return moved;
}
