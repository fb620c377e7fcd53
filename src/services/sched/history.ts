/**
 * Runs as the API reads them: the live ones in Redis and, with an archive, the ended ones it
 * holds, as one set. A run is in Redis, in the archive, or (while it moves) in both, where
 * Redis's copy counts. A run leaves Redis only after the archive committed it, so reading Redis
 * first and the archive second never misses a run that moves in between.
 */
import type { ArchiveStore } from '../../archive/store.ts';
import { mergePages } from '../../core/pages.ts';
import { RUN_STATUSES, type RunStatus } from '../../core/types.ts';
import type { LogLine } from '../../store/logs.ts';
import type { RunRecord, RunSummary } from '../../store/run-hash.ts';
import type { RunFilter, RunStore } from '../../store/runs.ts';

export class RunHistory {
  constructor(
    private readonly live: RunStore,
    private readonly archive?: ArchiveStore,
  ) {}

  /** The run and where it was found. */
  async find(uid: string): Promise<{ run: RunRecord; archived: boolean } | undefined> {
    const live = await this.live.get(uid);
    if (live) return { run: live, archived: false };
    const archived = await this.archive?.get(uid);
    return archived && { run: archived, archived: true };
  }

  async get(uid: string): Promise<RunRecord | undefined> {
    return (await this.find(uid))?.run;
  }

  /** One page, newest first, live and archived runs merged (RunStore.list: filters, cursor). */
  async list(
    limit: number,
    after?: string,
    filter: RunFilter = {},
  ): Promise<{ runs: RunSummary[]; next?: string }> {
    const live = await this.live.list(limit, after, filter);
    if (!this.archive) return live;
    const archived = await this.archive.list(limit, after, filter);
    const page = mergePages(
      limit,
      (run) => run.uid,
      { items: live.runs, next: live.next },
      { items: archived.runs, next: archived.next },
    );
    return { runs: page.items, ...(page.next !== undefined && { next: page.next }) };
  }

  /** The runs whose uid starts or ends with `part`, newest first, at most `limit`. */
  async findByUidPart(part: string, limit: number): Promise<RunSummary[]> {
    const live = await this.live.findByUidPart(part, limit);
    if (!this.archive) return live;
    const archived = await this.archive.findByUidPart(part, limit);
    return mergePages(limit, (run) => run.uid, { items: live }, { items: archived }).items;
  }

  /**
   * How many runs are in each status, live and archived: a run counts twice for the moment it is
   * in both.
   */
  async counts(): Promise<Record<RunStatus, number>> {
    const [live, archived] = await Promise.all([this.live.counts(), this.archive?.counts()]);
    return Object.fromEntries(
      RUN_STATUSES.map((s) => [s, live[s] + (archived?.[s] ?? 0)]),
    ) as Record<RunStatus, number>;
  }

  /**
   * An archived job's log, as the live store's lines (without stream ids); undefined when the
   * archive does not hold the run's job.
   */
  async archivedLog(uid: string, job: string): Promise<LogLine[] | undefined> {
    const lines = await this.archive?.logs(uid, job);
    return lines?.map((l) => ({ id: '', ...l }));
  }
}
