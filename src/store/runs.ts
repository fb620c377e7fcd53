/** Runs in Redis: creation, reading and listing. Transitions live in scripts.ts. */
import type { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import type { CompiledPipeline } from '../core/dag.ts';
import type { JobStatus, Pipeline, RunStatus } from '../core/types.ts';
import type { Keys } from './keys.ts';

export interface JobRecord {
  name: string;
  status: JobStatus;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
}

export interface RunRecord {
  uid: string;
  status: RunStatus;
  reason?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  pipeline: Pipeline;
  jobs: JobRecord[];
}

const optionalNumber = (v: string | undefined): number | undefined =>
  v === undefined ? undefined : Number(v);

export function parseRunHash(uid: string, h: Record<string, string>): RunRecord | undefined {
  if (h.status === undefined) return undefined;
  const jobs = (h.jobs ?? '').split(',').map((name): JobRecord => ({
    name,
    status: (h[`${name}.status`] ?? 'PENDING') as JobStatus,
    attempt: Number(h[`${name}.attempt`] ?? 1),
    startedAt: optionalNumber(h[`${name}.started`]),
    finishedAt: optionalNumber(h[`${name}.finished`]),
    exitCode: optionalNumber(h[`${name}.exit`]),
    reason: h[`${name}.reason`],
  }));
  return {
    uid,
    status: h.status as RunStatus,
    reason: h.reason,
    createdAt: Number(h.created),
    startedAt: optionalNumber(h.started),
    finishedAt: optionalNumber(h.finished),
    pipeline: JSON.parse(h.pipeline ?? '{}') as Pipeline,
    jobs,
  };
}

/** The hash fields of a new run: the compiled DAG and every job PENDING at attempt 1. */
function initialFields(
  pipeline: Pipeline,
  compiled: CompiledPipeline,
  now: number,
): Record<string, string | number> {
  const names = Object.keys(pipeline.jobs);
  const fields: Record<string, string | number> = {
    status: 'PENDING',
    created: now,
    total: names.length,
    done: 0,
    jobs: names.join(','),
    pipeline: JSON.stringify(pipeline),
  };
  for (const name of names) {
    const job = compiled.jobs[name];
    const spec = pipeline.jobs[name];
    if (!job || !spec) continue;
    fields[`${name}.status`] = 'PENDING';
    fields[`${name}.attempt`] = 1;
    fields[`${name}.wait`] = job.deps.length;
    fields[`${name}.spec`] = JSON.stringify({ image: spec.image, run: spec.run });
    if (job.deps.length > 0) {
      fields[`${name}.deps`] = job.deps.map((d) => `${d.job}=${d.accepts.join('|')}`).join(';');
    }
    if (job.dependents.length > 0) fields[`${name}.next`] = job.dependents.join(',');
  }
  return fields;
}

export class RunStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxEvents: number,
  ) {}

  /** Creates the run, its index entry and its first event in one atomic step. */
  async create(pipeline: Pipeline, compiled: CompiledPipeline, now: number): Promise<string> {
    const uid = uuidv7();
    await this.redis
      .multi()
      .hset(this.keys.run(uid), initialFields(pipeline, compiled, now))
      .zadd(this.keys.runs, 0, uid)
      .xadd(
        this.keys.events,
        'MAXLEN',
        '~',
        this.maxEvents,
        '*',
        'uid',
        uid,
        'status',
        'PENDING',
        'time',
        now,
      )
      .exec();
    return uid;
  }

  async get(uid: string): Promise<RunRecord | undefined> {
    return parseRunHash(uid, await this.redis.hgetall(this.keys.run(uid)));
  }

  async jobStatus(uid: string, job: string): Promise<JobStatus | undefined> {
    return ((await this.redis.hget(this.keys.run(uid), `${job}.status`)) ?? undefined) as
      JobStatus | undefined;
  }

  /**
   * One page of runs, newest first. `after` is the last uid of the previous page; the answer's
   * `next` is the cursor of the following page, absent on the last one.
   */
  async list(limit: number, after?: string): Promise<{ runs: RunRecord[]; next?: string }> {
    const start = after === undefined ? '+' : `(${after}`;
    const uids = await this.redis.zrange(
      this.keys.runs,
      start,
      '-',
      'BYLEX',
      'REV',
      'LIMIT',
      0,
      limit + 1,
    );
    const page = uids.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const uid of page) pipeline.hgetall(this.keys.run(uid));
    const hashes = (await pipeline.exec()) ?? [];
    const runs: RunRecord[] = [];
    hashes.forEach(([err, h], i) => {
      const uid = page[i];
      if (err || uid === undefined) return;
      const run = parseRunHash(uid, h as Record<string, string>);
      if (run) runs.push(run);
    });
    const last = page[page.length - 1];
    return { runs, next: uids.length > limit ? last : undefined };
  }
}
