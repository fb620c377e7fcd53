/** Runs in Redis: creation, reading and listing. Transitions live in scripts.ts. */
import type { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import type { RunPlan } from '../core/plan.ts';
import { matches, type Requirement } from '../core/selector.ts';
import type { JobStatus, Pipeline, RunStatus } from '../core/types.ts';
import { RUN_STATUSES } from '../core/types.ts';
import type { Keys } from './keys.ts';
import { withScripts, type Evalable } from './scripts.ts';

export interface AttemptRecord {
  attempt: number;
  status: JobStatus;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
}

export interface JobRecord {
  name: string;
  status: JobStatus;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  /** Earlier attempts of this job (retries), oldest first. */
  attempts: AttemptRecord[];
  outputs?: Record<string, string>;
  /** The executor whose queue the job goes to. */
  executor: string;
  /** Handed to the queue (ready and not held back by the run's concurrency limit). */
  queued: boolean;
}

/** A run without its pipeline: what a list page shows. */
export interface RunSummary {
  uid: string;
  status: RunStatus;
  reason?: string;
  name?: string;
  labels: Record<string, string>;
  params: Record<string, string>;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  jobs: JobRecord[];
}

export interface RunRecord extends RunSummary {
  pipeline: Pipeline;
}

const optionalNumber = (v: string | undefined): number | undefined =>
  v === undefined ? undefined : Number(v);

const json = <T>(v: string | undefined, fallback: T): T =>
  v === undefined ? fallback : (JSON.parse(v) as T);

function parseSummary(uid: string, h: Record<string, string>): RunSummary | undefined {
  if (h.status === undefined) return undefined;
  const jobs = (h.jobs ?? '').split(',').map((name): JobRecord => ({
    name,
    status: (h[`${name}.status`] ?? 'PENDING') as JobStatus,
    attempt: Number(h[`${name}.attempt`] ?? 1),
    startedAt: optionalNumber(h[`${name}.started`]),
    finishedAt: optionalNumber(h[`${name}.finished`]),
    exitCode: optionalNumber(h[`${name}.exit`]),
    reason: h[`${name}.reason`],
    attempts: json(h[`${name}.attempts`], []),
    outputs: json(h[`${name}.outputs`], undefined),
    executor: h[`${name}.exec`] ?? '',
    queued: h[`${name}.queued`] === '1',
  }));
  return {
    uid,
    status: h.status as RunStatus,
    reason: h.reason,
    name: h.name,
    labels: json(h.labels, {}),
    params: json(h.params, {}),
    createdAt: Number(h.created),
    startedAt: optionalNumber(h.started),
    finishedAt: optionalNumber(h.finished),
    jobs,
  };
}

/**
 * A new run: `fields`, its hash's fields and values in one list as HSET takes them (the compiled
 * DAG, every job PENDING at attempt 1); `spec`, the same for its spec hash (the pipeline and each
 * job's spec, the bulk of a run's bytes, kept apart so that reading a run's state, as a list page
 * does, does not decode them); and `run`, what reading those fields back gives.
 */
function newRun(
  uid: string,
  plan: RunPlan,
  queuedRoots: string[],
  now: number,
): { fields: string[]; spec: string[]; run: RunSummary } {
  const { pipeline, compiled } = plan;
  const names = Object.keys(pipeline.jobs);
  const queued = new Set(queuedRoots);
  const held = compiled.roots.filter((r) => !queued.has(r));
  const name = pipeline.metadata?.name;
  // prettier-ignore
  const fields = [
    'status', 'PENDING', 'created', String(now), 'total', String(names.length), 'done', '0',
    'active', String(queued.size), 'jobs', names.join(','),
    'labels', JSON.stringify(plan.labels), 'params', JSON.stringify(plan.params),
  ];
  const spec = ['pipeline', JSON.stringify(pipeline)];
  if (name) fields.push('name', name);
  if (pipeline.concurrency) fields.push('concurrency', String(pipeline.concurrency));
  if (held.length > 0) fields.push('held', held.join(','));
  const jobs: JobRecord[] = [];
  for (const job of names) {
    const compiledJob = compiled.jobs[job];
    const jobSpec = plan.jobs[job];
    if (!compiledJob || !jobSpec) continue;
    const { deps, dependents } = compiledJob;
    // prettier-ignore
    fields.push(
      `${job}.status`, 'PENDING', `${job}.attempt`, '1', `${job}.wait`, String(deps.length),
      `${job}.exec`, jobSpec.executor,
    );
    spec.push(`${job}.spec`, JSON.stringify(jobSpec));
    if (jobSpec.retries?.limit) fields.push(`${job}.retries`, String(jobSpec.retries.limit));
    if (queued.has(job)) fields.push(`${job}.queued`, '1');
    if (deps.length > 0) {
      fields.push(`${job}.deps`, deps.map((d) => `${d.job}=${d.accepts.join('|')}`).join(';'));
    }
    if (dependents.length > 0) fields.push(`${job}.next`, dependents.join(','));
    jobs.push({
      name: job,
      status: 'PENDING',
      attempt: 1,
      attempts: [],
      executor: jobSpec.executor,
      queued: queued.has(job),
    });
  }
  const run: RunSummary = {
    uid,
    status: 'PENDING',
    ...(name && { name }),
    labels: plan.labels,
    params: plan.params,
    createdAt: now,
    jobs,
  };
  return { fields, spec, run };
}

export interface RunFilter {
  status?: RunStatus;
  name?: string;
  selector?: Requirement[];
}

/** Candidates examined per page of a filtered list at most; the page may come back short. */
const SCAN_LIMIT = 1000;

export class RunStore {
  private readonly scripts: Evalable;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxEvents: number,
  ) {
    this.scripts = withScripts(redis);
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
    const created = this.scripts.createRun(
      3 + indexes.length,
      this.keys.run(uid),
      this.keys.events,
      this.keys.runSpec(uid),
      ...indexes,
      uid,
      now,
      this.maxEvents,
      fields.length,
      ...fields,
      ...spec,
    );
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

  async jobStatus(uid: string, job: string): Promise<JobStatus | undefined> {
    return ((await this.redis.hget(this.keys.run(uid), `${job}.status`)) ?? undefined) as
      JobStatus | undefined;
  }

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
    const hashes = (await pipeline.exec()) ?? [];
    const runs: RunSummary[] = [];
    let last: string | undefined;
    let stoppedAt = -1;
    for (const [i, [err, h]] of hashes.entries()) {
      const uid = candidates[i];
      if (err || uid === undefined) continue;
      last = uid;
      const run = parseSummary(uid, h as Record<string, string>);
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

  /** Deletes an ended run with its logs and index entries (retention). */
  async delete(run: RunRecord): Promise<void> {
    const multi = this.redis
      .multi()
      .del(
        this.keys.run(run.uid),
        this.keys.runSpec(run.uid),
        ...run.jobs.map((j) => this.keys.log(run.uid, j.name)),
      )
      .zrem(this.keys.runs, run.uid)
      .zrem(this.keys.runsByStatus(run.status), run.uid);
    if (run.name !== undefined) multi.zrem(this.keys.runsByName(run.name), run.uid);
    for (const [k, v] of Object.entries(run.labels))
      multi.zrem(this.keys.runsByLabel(k, v), run.uid);
    await multi.exec();
  }

  /** How many runs are in each status. */
  async counts(): Promise<Record<RunStatus, number>> {
    const pipeline = this.redis.pipeline();
    for (const s of RUN_STATUSES) pipeline.zcard(this.keys.runsByStatus(s));
    const replies = (await pipeline.exec()) ?? [];
    return Object.fromEntries(
      RUN_STATUSES.map((s, i) => [s, Number(replies[i]?.[1] ?? 0)]),
    ) as Record<RunStatus, number>;
  }
}
