/**
 * One typed wrapper per atomic transition. Each Lua script's header documents its KEYS and
 * ARGV; the wrappers below are the only place that builds them.
 */
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
  cancelRun: [lua('cancel-run'), 2],
  retryRun: [lua('retry-run'), 2],
  repairRun: [lua('repair-run'), 2],
} as const;

type ScriptName = keyof typeof SCRIPTS;
export type Evalable = Redis &
  Record<ScriptName, (...args: (string | number)[]) => Promise<string[]>>;

/** Registers the scripts on a connection (EVALSHA with a fallback to EVAL, done by ioredis). */
export function withScripts(redis: Redis): Evalable {
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

/** An attempt to run now: its spec (JSON) and the outputs of its dependencies that had some. */
export interface Runnable {
  attempt: Attempt;
  spec: string;
  dependencyOutputs: Record<string, Record<string, string>>;
}

/** 'restart': a re-delivery after a worker stopped; the attempt may be one its carrier carried on. */
export type StartResult =
  ({ code: 'start' | 'restart' } & Runnable) | { code: 'ended' | 'canceled' | 'stale' | 'missing' };

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

export type CancelResult =
  { code: 'ok'; running: string[] } | { code: 'ended'; status: string } | { code: 'missing' };

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
  status: 'SUCCESSFUL' | 'FAILED';
  exitCode: number | null;
  reason: string;
  outputs?: Record<string, string>;
}

/** [job, attempt, spec, dep, outputs, dep, outputs, ...] as the scripts answer it. */
function runnable(uid: string, reply: (string | undefined)[]): Runnable {
  const [job = '', attempt = '1', spec, ...outputs] = reply;
  const dependencyOutputs: Record<string, Record<string, string>> = {};
  for (let i = 0; i + 1 < outputs.length; i += 2) {
    dependencyOutputs[outputs[i] as string] = JSON.parse(outputs[i + 1] as string) as Record<
      string,
      string
    >;
  }
  return { attempt: { uid, job, attempt: Number(attempt) }, spec: spec ?? '{}', dependencyOutputs };
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

  async startJob(a: Attempt, now: number): Promise<StartResult> {
    const [code, job, attempt, spec, ...outputs] = await this.redis.startJob(
      ...this.run(a.uid),
      this.keys.runSpec(a.uid),
      a.uid,
      a.job,
      a.attempt,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
    );
    if (code === 'start' || code === 'restart')
      return { code, ...runnable(a.uid, [job, attempt, spec, ...outputs]) };
    return { code: code as 'ended' | 'canceled' | 'stale' | 'missing' };
  }

  async finishJob(
    a: Attempt,
    result: AttemptResult,
    now: number,
    carrier?: Carrier,
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

  async cancelRun(uid: string, reason: string, now: number): Promise<CancelResult> {
    const [code, ...rest] = await this.redis.cancelRun(
      ...this.run(uid),
      uid,
      reason,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
    );
    if (code === 'ok') return { code, running: rest };
    if (code === 'ended') return { code, status: rest[0] ?? '' };
    return { code: 'missing' };
  }

  async retryRun(uid: string, now: number): Promise<RetryResult> {
    const [code, ...rest] = await this.redis.retryRun(
      ...this.run(uid),
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
      uid,
      now,
      this.maxEvents,
      this.keys.statusIndexPrefix,
    );
    if (code === 'ok') return { code, repairs: Number(repairs), ready: ready.map(readyJob) };
    return { code: code as 'ended' | 'missing' };
  }
}
