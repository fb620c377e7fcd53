/**
 * --cpu-prof: the V8 CPU profile of one stretch of this process (inspector, no restart), saved as a
 * .cpuprofile (open it in Chrome DevTools or speedscope) and summarized by area and by function.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { Profiler, Runtime } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { round } from './stats.ts';

export async function profiled<T>(fn: () => Promise<T>): Promise<[T, Profiler.Profile]> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const result = await fn();
    const { profile } = await session.post('Profiler.stop');
    return [result, profile];
  } finally {
    session.disconnect();
  }
}

/** Where a function's code lives: a package, a chainr source file, the bench, or node itself. */
function area(frame: Runtime.CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] ?? 'deps';
  const own = /\/(src\/.+|bench\/.+)$/.exec(url);
  if (own) return own[1] ?? url;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

export interface ProfileSummary {
  /** Sampled time on the CPU, or waiting for it: on a loaded machine, more than CPU time. */
  busy_ms: number;
  idle_ms: number;
  cpu_per_job_ms: number;
  by_area_ms: Record<string, number>;
  top_self_ms: { fn: string; ms: number }[];
}

export function summarize(profile: Profiler.Profile, jobs: number): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  // Leave out the profiler's own work (taking the profile at Profiler.stop).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const profiler = new Set<number>();
  for (const n of profile.nodes) {
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      if (nodes.get(id)?.callFrame.url === 'node:inspector') profiler.add(n.id);
    }
  }
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => {
    if (!profiler.has(id)) selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  });
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = area(frame);
    byArea.set(where, (byArea.get(where) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  }
  const busy = [...byArea.values()].reduce((a, b) => a + b, 0);
  const sorted = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    busy_ms: round(busy / 1000),
    idle_ms: round(idle / 1000),
    cpu_per_job_ms: round(busy / 1000 / jobs),
    by_area_ms: Object.fromEntries(sorted(byArea, 25).map(([k, us]) => [k, round(us / 1000)])),
    top_self_ms: sorted(byFn, 25).map(([fn, us]) => ({ fn, ms: round(us / 1000) })),
  };
}

/** Writes `<name>.cpuprofile` and `<name>.summary.json` under dir; returns the summary. */
export async function saveProfile(
  dir: string,
  name: string,
  profile: Profiler.Profile,
  jobs: number,
): Promise<ProfileSummary> {
  await mkdir(dir, { recursive: true });
  const summary = summarize(profile, jobs);
  await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  await writeFile(join(dir, `${name}.summary.json`), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
