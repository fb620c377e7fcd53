/**
 * Workload 2, chain hop: one pipeline of 200 jobs in a line. A hop is the time from a job's end to
 * its dependent's start, taken in the worker process (the noop executor / the baseline's processor
 * note when each job ran; a noop job ends the instant it starts).
 */
import { startBaseline, type Baseline, type BaseMarks } from '../baseline.ts';
import { baselineBatch, chainrBatch, IN_FLIGHT, type BenchContext } from '../batch.ts';
import type { WorkloadResult } from '../batch.ts';
import { startChainr } from '../chainr.ts';
import { chain, toPipeline } from '../pipelines.ts';
import { startBenchRedis } from '../redis.ts';
import { percentile, ratio, round, spreads } from '../stats.ts';
import { hopSteps, traced } from '../trace.ts';

/** The median of each step over a chain's hops. */
function medians(steps: Record<string, number>[]): Record<string, number> {
  const keys = Object.keys(steps[0] ?? {});
  return Object.fromEntries(
    keys.map((k) => [
      k,
      round(
        percentile(
          steps.map((s) => s[k] ?? NaN),
          50,
        ),
      ),
    ]),
  );
}

/** The baseline's steps of the hop a → b (see trace.ts for chainr's). */
function baseSteps(b: Baseline, marks: Map<string, BaseMarks>, from: string, to: string) {
  const ma = marks.get(from) ?? {};
  const mb = marks.get(to) ?? {};
  const d = (x?: number, y?: number) => (x === undefined || y === undefined ? NaN : y - x);
  return {
    to_counters_ms: d(b.at.get(from), ma.countersStart),
    counters_ms: d(ma.countersStart, ma.countersEnd),
    to_enqueue_ms: d(ma.countersEnd, mb.enqueueStart),
    enqueue_ms: d(mb.enqueueStart, mb.enqueueEnd),
    bullmq_fetch_ms: d(mb.enqueueEnd, b.at.get(to)),
  };
}

function hops(at: Map<string, number>, id: string, jobs: string[]): number[] {
  const times = jobs.map((j) => {
    const t = at.get(`${id}/${j}`);
    if (t === undefined) throw new Error(`no timing for ${id}/${j}`);
    return t;
  });
  return times.slice(1).map((t, i) => t - (times[i] ?? t));
}

function figures(wallMs: number, h: number[]): Record<string, number> {
  return {
    hop_p50_ms: percentile(h, 50),
    hop_p99_ms: percentile(h, 99),
    hop_max_ms: Math.max(...h),
    wall_ms: wallMs,
  };
}

export async function chainHopWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const n = ctx.quick ? 50 : 200;
  const reps = ctx.quick ? 2 : 5;
  const shape = chain(n);
  const body = JSON.stringify(toPipeline(shape));
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'loop', concurrency: IN_FLIGHT });
  const base = await startBaseline(redis.url, { work: true, concurrency: IN_FLIGHT });
  try {
    await chainrBatch(chainr, redis.admin, body, 1, n); // warm-up
    await baselineBatch(base, redis.admin, shape, 1);
    const c: Record<string, number>[] = [];
    const b: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      chainr.timings.at.clear();
      const cr = await chainrBatch(chainr, redis.admin, body, 1, n);
      c.push(figures(cr.wall_ms, hops(chainr.timings.at, cr.uids[0] ?? '', shape.jobs)));
      base.at.clear();
      const br = await baselineBatch(base, redis.admin, shape, 1);
      b.push(figures(br.wall_ms, hops(base.at, br.uids[0] ?? '', shape.jobs)));
      ctx.log(
        `chain-hop rep ${rep + 1}/${reps}: hop p50 chainr ${round(c[rep]?.hop_p50_ms ?? 0)} ms, ` +
          `baseline ${round(b[rep]?.hop_p50_ms ?? 0)} ms`,
      );
    }
    // One traced repetition each (not in the figures above): where a hop's time goes.
    chainr.timings.at.clear();
    const [cr, marks] = await traced(() => chainrBatch(chainr, redis.admin, body, 1, n));
    const pairs = (id: string) =>
      shape.jobs.slice(1).map((j, i) => [`${id}/${shape.jobs[i]}`, `${id}/${j}`]);
    const chainrSteps = medians(
      pairs(cr.uids[0] ?? '').map(([a, b]) => hopSteps(chainr.timings.at, marks, a ?? '', b ?? '')),
    );
    base.at.clear();
    base.trace.marks = new Map();
    const br = await baselineBatch(base, redis.admin, shape, 1);
    const baseMarks = base.trace.marks;
    base.trace.marks = undefined;
    const baselineSteps = medians(
      pairs(br.uids[0] ?? '').map(([a, b]) => baseSteps(base, baseMarks, a ?? '', b ?? '')),
    );
    const cf = spreads(c);
    const bf = spreads(b);
    return {
      'chain-hop': {
        chainr: { repetitions: reps, jobs: n, ...cf, hop_steps_p50: chainrSteps },
        baseline: { repetitions: reps, jobs: n, ...bf, hop_steps_p50: baselineSteps },
        ratio: ratio(cf.hop_p50_ms, bf.hop_p50_ms),
        ratio_of: 'hop_p50_ms',
      },
    };
  } finally {
    await chainr.stop();
    await base.stop();
    await redis.stop();
  }
}
