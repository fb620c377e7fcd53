/**
 * One typed wrapper per atomic transition, a run's creation included. Each Lua script's header
 * documents its KEYS and ARGV; the wrappers below are the only place that builds them. The run
 * hash's fields the scripts change are listed in run-hash.ts.
 */
import type { ArtifactRecord } from '../core/artifacts.ts';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

const lua = (name: string): string =>
  readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

const includes = lua('includes');
/**
 * Each script's source and how many KEYS it takes (its header lists them); undefined: as many as
 * the call says, in its first argument.
 */
const SCRIPTS = {
  createRun: [lua('create-run'), undefined],
  startJob: [lua('start-job'), 3],
  finishJob: [lua('finish-job'), 3],
  cancelRun: [lua('cancel-run'), 3],
  retryRun: [lua('retry-run'), 3],
  repairRun: [lua('repair-run'), 3],
  deleteRun: [lua('delete-run'), undefined],
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Evalable = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<string[]>>;

/** Registers the scripts on a connection (EVALSHA with a fallback to EVAL, done by ioredis). */
function withScripts(redis: Redis): Evalable {
  for (const [name, [source, numberOfKeys]] of Object.entries(SCRIPTS)) {
    if (!(name in redis))
      redis.defineCommand(name, { numberOfKeys, lua: `${includes}\n${source}` });
  }
  return redis as Evalable;
}

/** An attempt ready to be enqueued, on its executor's queue ('' for the deployment default). */
export interface ReadyJob {
  job: string;
  attempt: number;
  executor: string;
}

function readyJob(entry: string): ReadyJob {
  const [job = '', attempt = '1', executor = ''] = entry.split('/');
  return { job, attempt: Number(attempt), executor };
}

/** An attempt to run now: its spec (JSON) and the outputs of its ancestors that had some. */
export interface Runnable {
  attempt: Attempt;
  spec: string;
  ancestorOutputs: Record<string, Record<string, string>>;
}

/**
 * 'restart': a re-delivery after a worker stopped; the attempt may be one its carrier carried on.
 * 'decide': the job has a `when` condition, still PENDING: the caller decides it, then starts the
 * job again with `conditionHolds`, or finishes it SKIPPED (or FAILED) without it running.
 * 'held': a re-delivery while its owner, another live instance, still processes it.
 */
export type StartResult =
  | ({ code: 'start' | 'restart' | 'decide' } & Runnable)
  | { code: 'held'; owner: string }
  | { code: 'ended' | 'canceled' | 'stale' | 'missing' };

/** The work instance taking an attempt (start-job.lua), and its registration's TTL. */
export interface Owner {
  id: string;
  ttlMs: number;
}

/**
 * `next`: a ready dependent carried on in the caller's slot, already RUNNING (finish-job.lua); for
 * a duplicate, the one the first finish carried on, when its answer was lost.
 */
export type FinishResult =
  | { code: 'ok' | 'duplicate'; ready: ReadyJob[]; next?: Runnable }
  | { code: 'retry'; ready: ReadyJob[]; retry: number }
  | { code: 'ignored' | 'missing' };

/** The queue slot a worker offers for carrying a ready dependent on: its executor, the job it holds. */
export interface Carrier {
  executor: string;
  holds: Attempt;
}

/** `running`: the jobs to stop; `ready`: cleanup jobs a first cancel let run (enqueue them). */
export type CancelResult =
  | { code: 'ok'; running: string[]; ready: ReadyJob[] }
  | { code: 'ended'; status: string }
  | { code: 'missing' };

export type RetryResult =
  | { code: 'ok'; ready: ReadyJob[] }
  | { code: 'running'; status: string }
  | { code: 'nothing' | 'missing' };

export type RepairResult =
  { code: 'ok'; repairs: number; ready: ReadyJob[] } | { code: 'ended' | 'missing' };

export interface Attempt {
  uid: string;
  job: string;
  attempt: number;
}

export interface AttemptResult {
  /** SKIPPED: the job's `when` condition was false (it did not run). */
  status: 'SUCCESSFUL' | 'FAILED' | 'SKIPPED';
  exitCode: number | null;
  reason: string;
  outputs?: Record<string, string>;
  artifacts?: ArtifactRecord[];
}

/** [job, attempt, spec, ancestor, outputs, ancestor, outputs, ...] as the scripts answer it. */
function runnable(uid: string, reply: (string | undefined)[]): Runnable {
  const [job = '', attempt = '1', spec, ...outputs] = reply;
  const ancestorOutputs: Record<string, Record<string, string>> = {};
  for (let i = 0; i + 1 < outputs.length; i += 2) {
    ancestorOutputs[outputs[i] as string] = JSON.parse(outputs[i + 1] as string) as Record<
      string,
      string
    >;
  }
  return { attempt: { uid, job, attempt: Number(attempt) }, spec: spec ?? '{}', ancestorOutputs };
}

export class Transitions {
  private readonly redis: Evalable;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    private readonly maxEvents: number,
  ) {
    this.redis = withScripts(redis);
  }

  private run(uid: string): [string, string] {
    return [this.keys.run(uid), this.keys.events];
  }

  /**
   * Writes a new run (run-hash.ts: newRun's `fields` and `spec`), joins it to `indexes` and emits
   * its first event, in one step. The command is sent before this returns its promise (what the
   * caller sends next on the connection runs after it).
   */
  async createRun(
    uid: string,
    now: number,
    indexes: string[],
    fields: string[],
    spec: string[],
  ): Promise<void> {
    await this.redis.createRun(
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
  }

  /**
   * `owner`: recorded as the queue entry's owner, and refused a re-delivery another one holds;
   * `conditionHolds`: the caller decided the job's `when` condition true (after 'decide').
   */
  async startJob(
    a: Attempt,
    now: number,
    owner?: Owner,
    conditionHolds = false,
  ): Promise<StartResult> {
    const [code, job, attempt, spec, ...outputs] = await this.redis.startJob(
      ...this.run(a.uid),
      this.keys.runSpec(a.uid),
      a.uid,
      a.job,
      a.attempt,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
      conditionHolds ? '1' : '',
      owner?.id ?? '',
      this.keys.instancePrefix,
      owner?.ttlMs ?? 0,
    );
    if (code === 'start' || code === 'restart' || code === 'decide')
      return { code, ...runnable(a.uid, [job, attempt, spec, ...outputs]) };
    if (code === 'held') return { code, owner: job ?? '' };
    return { code: code as 'ended' | 'canceled' | 'stale' | 'missing' };
  }

  async finishJob(
    a: Attempt,
    result: AttemptResult,
    now: number,
    carrier?: Carrier,
    /** The wait before each retry, the first retry's first: said in a retried attempt's reason. */
    retryWaitsMs: number[] = [],
  ): Promise<FinishResult> {
    const hasOutputs = result.outputs && Object.keys(result.outputs).length > 0;
    const [code, ...rest] = await this.redis.finishJob(
      ...this.run(a.uid),
      this.keys.runSpec(a.uid),
      a.uid,
      a.job,
      a.attempt,
      result.status,
      result.exitCode ?? '',
      result.reason,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
      hasOutputs ? JSON.stringify(result.outputs) : '',
      carrier?.executor ?? '',
      carrier ? `${carrier.holds.job}/${carrier.holds.attempt}` : '',
      retryWaitsMs.join(','),
      result.artifacts?.length ? JSON.stringify(result.artifacts) : '',
    );
    if (code === 'retry')
      return { code, ready: rest.slice(0, 1).map(readyJob), retry: Number(rest[1]) };
    if (code === 'ok' || code === 'duplicate') {
      const count = Number(rest[0]);
      const ready = rest.slice(1, 1 + count).map(readyJob);
      const carried = rest.slice(1 + count);
      return carried.length > 0 ? { code, ready, next: runnable(a.uid, carried) } : { code, ready };
    }
    return { code: code as 'ignored' | 'missing' };
  }

  /**
   * Cancels a run: the first time, its cleanup jobs still run (the run ends CANCELED after them);
   * a second time, or with `force`, everything stops.
   */
  async cancelRun(uid: string, reason: string, now: number, force = false): Promise<CancelResult> {
    const [code, ...rest] = await this.redis.cancelRun(
      ...this.run(uid),
      this.keys.runSpec(uid),
      uid,
      reason,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
      force ? '1' : '',
    );
    if (code === 'ok') {
      const count = Number(rest[0]);
      return {
        code,
        running: rest.slice(1, 1 + count),
        ready: rest.slice(1 + count).map(readyJob),
      };
    }
    if (code === 'ended') return { code, status: rest[0] ?? '' };
    return { code: 'missing' };
  }

  async retryRun(uid: string, now: number): Promise<RetryResult> {
    const [code, ...rest] = await this.redis.retryRun(
      ...this.run(uid),
      this.keys.runSpec(uid),
      uid,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
    );
    if (code === 'ok') return { code, ready: rest.map(readyJob) };
    if (code === 'running') return { code, status: rest[0] ?? '' };
    return { code: code as 'nothing' | 'missing' };
  }

  async repairRun(uid: string, now: number): Promise<RepairResult> {
    const [code, repairs, ...ready] = await this.redis.repairRun(
      ...this.run(uid),
      this.keys.runSpec(uid),
      uid,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
    );
    if (code === 'ok') return { code, repairs: Number(repairs), ready: ready.map(readyJob) };
    return { code: code as 'ended' | 'missing' };
  }

  /**
   * Deletes an ended run (delete-run.lua): `keys` (its hash first) and its uid from `indexes`,
   * only if its status and end time are still those given; true when it was deleted.
   */
  async deleteRun(
    uid: string,
    status: string,
    /** '' for a run that has not ended. */
    finishedAt: number | '',
    keys: string[],
    indexes: string[],
  ): Promise<boolean> {
    const deleted: unknown = await this.redis.deleteRun(
      keys.length + indexes.length,
      ...keys,
      ...indexes,
      status,
      finishedAt,
      keys.length,
      uid,
    );
    return deleted === 1;
  }
}
