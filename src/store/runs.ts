/**
 * Runs in Redis: creation, reading and listing. The run's layout lives in run-hash.ts, its
 * transitions (creation's atomic write included) in scripts.ts.
 */
import type { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import type { ArtifactRecord } from '../core/artifacts.ts';
import type { RunPlan } from '../core/plan.ts';
import { matches, type Requirement } from '../core/selector.ts';
import type { JobStatus, RunStatus } from '../core/types.ts';
import { RUN_STATUSES } from '../core/types.ts';
import { execAll } from './connection.ts';
import { skipCorrupt, type CorruptRecordReporter } from './corrupt.ts';
import type { Keys } from './keys.ts';
import {
  json,
  jobField,
  newRun,
  parseSummary,
  type RunRecord,
  type RunSummary,
} from './run-hash.ts';
import { Transitions } from './scripts.ts';

export interface RunFilter {
  status?: RunStatus;
  name?: string;
  selector?: Requirement[];
}

/** Candidates examined per page of a filtered list at most; the page may come back short. */
const SCAN_LIMIT = 1000;

export class RunStore {
  private readonly transitions: Transitions;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    maxEvents: number,
    /** Told of each run a list leaves out because its record cannot be read. */
    private readonly reportCorrupt?: CorruptRecordReporter,
  ) {
    this.transitions = new Transitions(redis, keys, maxEvents);
  }

  /**
   * Creates the run, its index entries and its first event in one atomic step (create-run.lua).
   * Returns its uid, the roots to enqueue now (the others wait for the run's concurrency limit),
   * and the run as written (what reading it back would give, without the round trip).
   *
   * `andThen`, given the uid and those roots, is called as soon as the creation is sent: what it
   * sends at once on this connection reaches Redis in the same socket write and runs after the
   * creation (how the roots are enqueued: one write and one round trip for both).
   */
  async create(
    plan: RunPlan,
    now: number,
    andThen?: (uid: string, queued: string[]) => Promise<unknown>,
  ): Promise<{ uid: string; queued: string[]; run: RunRecord }> {
    const uid = uuidv7();
    const limit = plan.pipeline.concurrency ?? Infinity;
    const queued = plan.compiled.roots.slice(0, limit);
    const { fields, spec, run } = newRun(uid, plan, queued, now);
    const indexes = [this.keys.runs, this.keys.runsByStatus('PENDING')];
    if (plan.pipeline.metadata?.name)
      indexes.push(this.keys.runsByName(plan.pipeline.metadata.name));
    for (const [k, v] of Object.entries(plan.labels)) indexes.push(this.keys.runsByLabel(k, v));
    // Sent from a promise continuation: the socket is uncorked on the next tick, which then comes
    // after what `andThen` sends through promise chains (BullMQ's add), not before it.
    await Promise.resolve();
    const created = this.transitions.createRun(uid, now, indexes, fields, spec);
    await Promise.all([created, andThen?.(uid, queued)]);
    return { uid, queued, run: { ...run, pipeline: plan.pipeline } };
  }

  async get(uid: string): Promise<RunRecord | undefined> {
    // Two commands sent together, without a pipeline object (ioredis copies every script defined
    // on the connection into each pipeline and MULTI). The spec hash never changes; a run deleted
    // between the two reads comes back without its pipeline, as if read just before deletion.
    const [h, pipeline] = await Promise.all([
      this.redis.hgetall(this.keys.run(uid)),
      this.redis.hget(this.keys.runSpec(uid), 'pipeline'),
    ]);
    const summary = parseSummary(uid, h);
    return (
      summary && {
        ...summary,
        pipeline: json(pipeline ?? undefined, { kind: 'Pipeline', jobs: {} }),
      }
    );
  }

  /** A job's status and current attempt, read together. */
  async jobAttempt(
    uid: string,
    job: string,
  ): Promise<{ status: JobStatus; attempt: number } | undefined> {
    const [status, attempt] = await this.redis.hmget(
      this.keys.run(uid),
      jobField(job, 'status'),
      jobField(job, 'attempt'),
    );
    if (status === null) return undefined;
    return { status: status as JobStatus, attempt: Number(attempt ?? 1) };
  }

  /** The statuses of some of a run's jobs (PENDING for one it does not have). */
  async jobStatuses(uid: string, jobs: string[]): Promise<Record<string, JobStatus>> {
    if (jobs.length === 0) return {};
    const fields = jobs.map((job) => jobField(job, 'status'));
    const values = await this.redis.hmget(this.keys.run(uid), ...fields);
    return Object.fromEntries(jobs.map((job, i) => [job, (values[i] ?? 'PENDING') as JobStatus]));
  }

  /** The artifacts the given jobs stored, for those that stored some. */
  async artifactRecords(uid: string, jobs: string[]): Promise<Record<string, ArtifactRecord[]>> {
    if (jobs.length === 0) return {};
    const values = await this.redis.hmget(
      this.keys.run(uid),
      ...jobs.map((job) => jobField(job, 'artifacts')),
    );
    const found: Record<string, ArtifactRecord[]> = {};
    jobs.forEach((job, i) => {
      const value = values[i];
      if (value) found[job] = JSON.parse(value) as ArtifactRecord[];
    });
    return found;
  }

  /** The count of the run's stored artifact bytes, which the per-run limit applies to. */
  readonly artifactBytes = {
    used: async (uid: string): Promise<number> =>
      Number((await this.redis.hget(this.keys.run(uid), 'artifactBytes')) ?? 0),
    add: (uid: string, delta: number): Promise<number> =>
      this.redis.hincrby(this.keys.run(uid), 'artifactBytes', delta),
  };

  /** The most selective index for a filter: an equality label, the name, the status, or all. */
  private indexFor(filter: RunFilter): string {
    const label = filter.selector?.find((r) => r.op === '=');
    if (label?.op === '=') return this.keys.runsByLabel(label.key, label.value);
    if (filter.name !== undefined) return this.keys.runsByName(filter.name);
    if (filter.status !== undefined) return this.keys.runsByStatus(filter.status);
    return this.keys.runs;
  }

  /**
   * One page of runs, newest first, never reading more than a bounded number of runs. `after`
   * is the cursor from the previous page; the answer's `next` is the following page's cursor,
   * absent on the last one. A filtered page may hold fewer than `limit` runs and still have a
   * `next`, like a Kubernetes list with `limit`.
   */
  async list(
    limit: number,
    after?: string,
    filter: RunFilter = {},
  ): Promise<{ runs: RunSummary[]; next?: string }> {
    const filtered =
      filter.status !== undefined ||
      filter.name !== undefined ||
      (filter.selector?.length ?? 0) > 0;
    const scan = filtered ? Math.max(limit, SCAN_LIMIT) : limit;
    const start = after === undefined ? '+' : `(${after}`;
    const uids = await this.redis.zrange(
      this.indexFor(filter),
      start,
      '-',
      'BYLEX',
      'REV',
      'LIMIT',
      0,
      scan + 1,
    );
    const candidates = uids.slice(0, scan);
    const pipeline = this.redis.pipeline();
    for (const uid of candidates) pipeline.hgetall(this.keys.run(uid));
    const hashes = await execAll(pipeline);
    const runs: RunSummary[] = [];
    let last: string | undefined;
    let stoppedAt = -1;
    for (const [i, h] of hashes.entries()) {
      const uid = candidates[i];
      if (uid === undefined) continue;
      last = uid;
      const run = skipCorrupt(
        () => parseSummary(uid, h as Record<string, string>),
        this.reportCorrupt,
      );
      if (run && this.accepts(run, filter)) runs.push(run);
      if (runs.length === limit) {
        stoppedAt = i;
        break;
      }
    }
    const beyondScan = uids.length > scan;
    const more = stoppedAt >= 0 ? stoppedAt < candidates.length - 1 || beyondScan : beyondScan;
    return { runs, next: more ? last : undefined };
  }

  /**
   * The runs whose uid starts or ends with `part` (the UI shows a uid's last 8 characters), newest
   * first, at most `limit`. Scans the run index in Redis (ZSCAN MATCH): a lookup by hand, not a
   * page of a list.
   */
  async findByUidPart(part: string, limit: number): Promise<RunSummary[]> {
    const found = new Set<string>();
    for (const pattern of [`${part}*`, `*${part}`]) {
      let cursor = '0';
      do {
        const [next, entries] = await this.redis.zscan(
          this.keys.runs,
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          SCAN_LIMIT,
        );
        cursor = next;
        // entries alternate member and score
        for (let i = 0; i < entries.length; i += 2) found.add(entries[i] ?? '');
      } while (cursor !== '0' && found.size < limit);
    }
    const uids = [...found].sort().reverse().slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const uid of uids) pipeline.hgetall(this.keys.run(uid));
    const hashes = await execAll(pipeline);
    return uids.flatMap((uid, i) => parseSummary(uid, hashes[i] as Record<string, string>) ?? []);
  }

  private accepts(run: RunSummary, filter: RunFilter): boolean {
    if (filter.status !== undefined && run.status !== filter.status) return false;
    if (filter.name !== undefined && run.name !== filter.name) return false;
    return matches(filter.selector ?? [], run.labels);
  }

  /** Uids in an index, oldest first, after `after` (exclusive). */
  async oldest(index: string, count: number, after?: string): Promise<string[]> {
    return this.redis.zrange(
      index,
      after === undefined ? '-' : `(${after}`,
      '+',
      'BYLEX',
      'LIMIT',
      0,
      count,
    );
  }

  /**
   * Deletes an ended run with its logs and index entries (retention, archiving), in one step and
   * only if it is still as read (its status and end time): a run retried since stays. True when
   * it was deleted.
   */
  async delete(run: RunRecord): Promise<boolean> {
    const indexes = [this.keys.runs, this.keys.runsByStatus(run.status)];
    if (run.name !== undefined) indexes.push(this.keys.runsByName(run.name));
    for (const [k, v] of Object.entries(run.labels)) indexes.push(this.keys.runsByLabel(k, v));
    return this.transitions.deleteRun(
      run.uid,
      run.status,
      run.finishedAt ?? '',
      [
        this.keys.run(run.uid),
        this.keys.runSpec(run.uid),
        ...run.jobs.map((j) => this.keys.log(run.uid, j.name)),
      ],
      indexes,
    );
  }

  /** How many runs are in each status. */
  async counts(): Promise<Record<RunStatus, number>> {
    const pipeline = this.redis.pipeline();
    for (const s of RUN_STATUSES) pipeline.zcard(this.keys.runsByStatus(s));
    const replies = await execAll(pipeline);
    return Object.fromEntries(RUN_STATUSES.map((s, i) => [s, Number(replies[i])])) as Record<
      RunStatus,
      number
    >;
  }
}
