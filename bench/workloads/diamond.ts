/**
 * Workload 1, diamond: pipelines of 10 jobs (2 roots → 6 → 2), submitted through the API (the
 * baseline: straight to Redis), 50 jobs in flight. Repetitions alternate chainr and baseline.
 */
import { startBaseline } from '../baseline.ts';
import {
  baselineBatch,
  chainrBatch,
  IN_FLIGHT,
  throughput,
  type BenchContext,
  type WorkloadResult,
} from '../batch.ts';
import { startChainr } from '../chainr.ts';
import { diamond, toPipeline } from '../pipelines.ts';
import { profiled, saveProfile } from '../profile.ts';
import { startBenchRedis } from '../redis.ts';
import { ratio, round, spreads } from '../stats.ts';

export async function diamondWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const n = ctx.quick ? 20 : 200;
  const reps = ctx.quick ? 2 : 15;
  const shape = diamond();
  const body = JSON.stringify(toPipeline(shape));
  const jobs = shape.jobs.length;
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'thread', concurrency: IN_FLIGHT });
  const base = await startBaseline(redis.url, { work: true, concurrency: IN_FLIGHT });
  try {
    // Warm-up, one batch each: JIT, scripts loaded, connections open. (With 20 pipelines, the first
    // measured batch of both was still a third slower than the others.)
    await chainrBatch(chainr, redis.admin, body, n, jobs);
    await baselineBatch(base, redis.admin, shape, n);
    const c: Record<string, number>[] = [];
    const b: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      c.push(throughput(await chainrBatch(chainr, redis.admin, body, n, jobs), n, jobs));
      b.push(throughput(await baselineBatch(base, redis.admin, shape, n), n, jobs));
      ctx.log(
        `diamond rep ${rep + 1}/${reps}: chainr ${round(c[rep]?.pipelines_per_s ?? 0)} ` +
          `pipelines/s, baseline ${round(b[rep]?.pipelines_per_s ?? 0)}`,
      );
    }
    if (ctx.cpuProf) {
      // An extra repetition each, profiled, after the measured ones (profiling slows it down).
      const [, cp] = await profiled(() => chainrBatch(chainr, redis.admin, body, n, jobs));
      const [, bp] = await profiled(() => baselineBatch(base, redis.admin, shape, n));
      for (const [name, p] of [
        ['diamond-chainr', cp],
        ['diamond-baseline', bp],
      ] as const) {
        const s = await saveProfile(ctx.outDir, name, p, n * jobs);
        ctx.log(`${name}: ${s.cpu_per_job_ms} ms of CPU per job in this process`);
      }
    }
    const chainrFigures = spreads(c);
    const baseFigures = spreads(b);
    const common = { pipelines: n, jobs_per_pipeline: jobs, jobs_in_flight: IN_FLIGHT };
    return {
      diamond: {
        chainr: { repetitions: reps, ...common, ...chainrFigures },
        baseline: { repetitions: reps, ...common, ...baseFigures },
        ratio: ratio(chainrFigures.pipelines_per_s, baseFigures.pipelines_per_s),
        ratio_of: 'pipelines_per_s',
      },
    };
  } finally {
    await chainr.stop();
    await base.stop();
    await redis.stop();
  }
}
