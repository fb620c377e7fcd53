/**
 * Counting Redis commands per job: SLOWLOG with a threshold of 0 logs every command with its
 * duration, including those a Lua script runs (client `?:0`, logged before the script itself).
 * Scripts are named by their SHA1: chainr's (src/store/scripts.ts) and BullMQ's.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { percentile, round } from './stats.ts';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

function scriptNames(): Map<string, string> {
  const names = new Map<string, string>();
  const lua = (f: string) =>
    readFileSync(new URL(`../src/store/lua/${f}.lua`, import.meta.url), 'utf8');
  const includes = lua('includes');
  const scripts = readdirSync(new URL('../src/store/lua/', import.meta.url))
    .map((f) => f.replace(/\.lua$/, ''))
    .filter((f) => f !== 'includes');
  for (const f of scripts) {
    const camel = f.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
    names.set(sha1(`${includes}\n${lua(f)}`), `chainr:${camel}`);
  }
  const bull = createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js') as Record<
    string,
    { name: string; content: string }
  >;
  for (const s of Object.values(bull)) names.set(sha1(s.content), `bullmq:${s.name}`);
  return names;
}

type Entry = [id: number, time: number, micros: number, args: string[], addr: string, name: string];

export interface CommandCounts {
  jobs: number;
  /** Commands sent by clients (each command of a pipeline or MULTI counts). */
  client_commands_per_job: number;
  /** Commands run inside Lua scripts. */
  script_inner_commands_per_job: number;
  /** Time Redis spent executing the clients' commands (scripts included once; median × calls). */
  redis_exec_per_job_us: number;
  by_command: Record<string, CommandFigures>;
}

export interface CommandFigures {
  calls_per_job: number;
  /** Median: a single call can be descheduled on a loaded machine. */
  us_per_call: number;
  inner_commands_per_call?: number;
  /** For chainr's scripts: what they run, per call. */
  inner_by_command?: Record<string, number>;
}

interface Tally {
  micros: number[];
  inner: number;
  innerBy: Map<string, number>;
}

/** Starts logging every command; `collect` stops and counts what was logged meanwhile. */
/** The same figures per request (or another unit) instead of per job. */
export function perUnit(counts: CommandCounts, unit: string): Record<string, unknown> {
  const rename = (v: unknown): unknown =>
    typeof v === 'object' && v !== null
      ? Object.fromEntries(
          Object.entries(v).map(([k, x]) => [k.replace(/_per_job/, `_per_${unit}`), rename(x)]),
        )
      : v;
  const { jobs, ...rest } = counts;
  return { [`${unit}s`]: jobs, ...(rename(rest) as object) };
}

export async function recordCommands(admin: Redis) {
  const names = scriptNames();
  await admin.config('SET', 'slowlog-max-len', '2000000');
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.slowlog('RESET');
  /** `jobs`: how many units the counts are divided by, or the command counted as one unit each. */
  return async (units: number | string): Promise<CommandCounts> => {
    await admin.config('SET', 'slowlog-log-slower-than', '10000');
    const entries = ((await admin.slowlog('GET', -1)) as Entry[]).reverse(); // oldest first
    await admin.slowlog('RESET');
    const by = new Map<string, Tally>();
    let inner: string[] = [];
    let innerTotal = 0;
    for (const [, , us, args, addr, clientName] of entries) {
      const cmd = (args[0] ?? '').toUpperCase();
      if (addr === '?:0' || addr === '') {
        inner.push(cmd);
        innerTotal++;
        continue;
      }
      const ran = inner;
      inner = [];
      if (clientName === 'bench') continue;
      const unknown = (args[3] ?? '').includes(':run:') ? 'chainr:?' : 'EVALSHA ?';
      const label = cmd === 'EVALSHA' ? (names.get(args[1] ?? '') ?? unknown) : cmd;
      const t: Tally = by.get(label) ?? { micros: [], inner: 0, innerBy: new Map() };
      t.micros.push(us);
      t.inner += ran.length;
      for (const c of ran) t.innerBy.set(c, (t.innerBy.get(c) ?? 0) + 1);
      by.set(label, t);
    }
    const jobs = typeof units === 'number' ? units : (by.get(units)?.micros.length ?? NaN);
    const perJob = (x: number) => round(x / jobs);
    const figures = [...by]
      .sort((a, b) => b[1].micros.length - a[1].micros.length)
      .map(([label, t]): [string, CommandFigures] => {
        const calls = t.micros.length;
        const innerBy = [...t.innerBy].sort((a, b) => b[1] - a[1]);
        return [
          label,
          {
            calls_per_job: perJob(calls),
            us_per_call: percentile(t.micros, 50),
            ...(t.inner > 0 && { inner_commands_per_call: round(t.inner / calls) }),
            ...(label.startsWith('chainr:') && {
              inner_by_command: Object.fromEntries(innerBy.map(([c, k]) => [c, round(k / calls)])),
            }),
          },
        ];
      });
    const client = figures.reduce((sum, [, f]) => sum + f.calls_per_job, 0);
    const exec = figures.reduce((sum, [, f]) => sum + f.calls_per_job * f.us_per_call, 0);
    return {
      jobs,
      client_commands_per_job: round(client),
      script_inner_commands_per_job: perJob(innerTotal),
      redis_exec_per_job_us: round(exec),
      by_command: Object.fromEntries(figures),
    };
  };
}
