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
const SOURCES = {
  startJob: lua('start-job'),
  finishJob: lua('finish-job'),
  cancelRun: lua('cancel-run'),
};

type ScriptName = keyof typeof SOURCES;
type Evalable = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<string[]>>;

/** Registers the scripts on a connection (EVALSHA with a fallback to EVAL, done by ioredis). */
function withScripts(redis: Redis): Evalable {
  for (const [name, source] of Object.entries(SOURCES)) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 2, lua: includes + source });
  }
  return redis as Evalable;
}

export type StartResult =
  | { code: 'start' | 'restart'; spec: string }
  | { code: 'ended' | 'canceled' | 'stale' | 'missing' };

export interface ReadyJob {
  job: string;
  attempt: number;
}

export type FinishResult =
  { code: 'ok' | 'duplicate'; ready: ReadyJob[] } | { code: 'ignored' | 'missing' };

function readyJob(entry: string): ReadyJob {
  const slash = entry.lastIndexOf('/');
  return { job: entry.slice(0, slash), attempt: Number(entry.slice(slash + 1)) };
}

export type CancelResult =
  { code: 'ok'; running: string[] } | { code: 'ended'; status: string } | { code: 'missing' };

export interface Attempt {
  uid: string;
  job: string;
  attempt: number;
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

  async startJob(a: Attempt, now: number): Promise<StartResult> {
    const [code, spec] = await this.redis.startJob(
      this.keys.run(a.uid),
      this.keys.events,
      a.uid,
      a.job,
      a.attempt,
      now,
      this.maxEvents,
    );
    if (code === 'start' || code === 'restart') return { code, spec: spec ?? '{}' };
    return { code: code as 'ended' | 'canceled' | 'stale' | 'missing' };
  }

  async finishJob(
    a: Attempt,
    result: { status: 'SUCCESSFUL' | 'FAILED'; exitCode: number | null; reason: string },
    now: number,
  ): Promise<FinishResult> {
    const [code, ...ready] = await this.redis.finishJob(
      this.keys.run(a.uid),
      this.keys.events,
      a.uid,
      a.job,
      a.attempt,
      result.status,
      result.exitCode ?? '',
      result.reason,
      now,
      this.maxEvents,
    );
    if (code === 'ok' || code === 'duplicate') return { code, ready: ready.map(readyJob) };
    return { code: code as 'ignored' | 'missing' };
  }

  async cancelRun(uid: string, reason: string, now: number): Promise<CancelResult> {
    const [code, ...rest] = await this.redis.cancelRun(
      this.keys.run(uid),
      this.keys.events,
      uid,
      reason,
      now,
      this.maxEvents,
    );
    if (code === 'ok') return { code, running: rest };
    if (code === 'ended') return { code, status: rest[0] ?? '' };
    return { code: 'missing' };
  }
}
