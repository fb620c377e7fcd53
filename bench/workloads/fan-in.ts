/**
 * Workload 3, fan-in: 1 → 1,000 → 1. The figure is the time from the last middle job's end to the
 * final job's start (the hand-off at the join), with the fan-out and the total beside it.
 */
import { startBaseline } from '../baseline.ts';
import { baselineBatch, chainrBatch, IN_FLIGHT, type BenchContext } from '../batch.ts';
import type { WorkloadResult } from '../batch.ts';
import { startChainr } from '../chainr.ts';
import { fanIn, toPipeline, type Shape } from '../pipelines.ts';
import { startBenchRedis } from '../redis.ts';
import { ratio, round, spreads } from '../stats.ts';

function figures(at: Map<string, number>, id: string, s: Shape, wallMs: number) {
  const t = (j: string) => {
    const v = at.get(`${id}/${j}`);
    if (v === undefined) throw new Error(`no timing for ${id}/${j}`);
    return v;
  };
  const middle = s.jobs.filter((j) => j !== 'root' && j !== 'final').map(t);
  const lastMiddle = Math.max(...middle);
  return {
    last_middle_to_final_ms: t('final') - lastMiddle,
    root_to_last_middle_ms: lastMiddle - t('root'),
    wall_ms: wallMs,
  };
}

export async function fanInWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const width = ctx.quick ? 200 : 1000;
  const reps = ctx.quick ? 2 : 5;
  const shape = fanIn(width);
  const body = JSON.stringify(toPipeline(shape));
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'loop', concurrency: IN_FLIGHT });
  const base = await startBaseline(redis.url, { work: true, concurrency: IN_FLIGHT });
  try {
    await chainrBatch(chainr, redis.admin, body, 1, shape.jobs.length); // warm-up
    await baselineBatch(base, redis.admin, shape, 1);
    const c: Record<string, number>[] = [];
    const b: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      chainr.timings.at.clear();
      const cr = await chainrBatch(chainr, redis.admin, body, 1, shape.jobs.length);
      c.push(figures(chainr.timings.at, cr.uids[0] ?? '', shape, cr.wall_ms));
      base.at.clear();
      const br = await baselineBatch(base, redis.admin, shape, 1);
      b.push(figures(base.at, br.uids[0] ?? '', shape, br.wall_ms));
      ctx.log(
        `fan-in rep ${rep + 1}/${reps}: join chainr ${round(c[rep]?.last_middle_to_final_ms ?? 0)} ms` +
          `, baseline ${round(b[rep]?.last_middle_to_final_ms ?? 0)} ms`,
      );
    }
    const cf = spreads(c);
    const bf = spreads(b);
    const common = { repetitions: reps, middle_jobs: width, jobs_in_flight: IN_FLIGHT };
    return {
      'fan-in': {
        chainr: { ...common, ...cf },
        baseline: { ...common, ...bf },
        ratio: ratio(cf.last_middle_to_final_ms, bf.last_middle_to_final_ms),
        ratio_of: 'last_middle_to_final_ms',
      },
    };
  } finally {
    await chainr.stop();
    await base.stop();
    await redis.stop();
  }
}
