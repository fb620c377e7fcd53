/**
 * Workload 6, multi-process: the diamond workload with 1, 2 and 3 worker processes (`chainr work`;
 * bench/baseline-worker.ts for the baseline), 50 jobs in flight in all. sched (the API) and the
 * baseline's submitter stay in this process.
 */
import { spawnBaselineWorkers, startBaseline } from '../baseline.ts';
import { baselineBatch, chainrBatch, IN_FLIGHT, throughput, type BenchContext } from '../batch.ts';
import type { WorkloadResult } from '../batch.ts';
import { spawnChainrWorkers, startChainr } from '../chainr.ts';
import { diamond, toPipeline } from '../pipelines.ts';
import { processCpuMs, startBenchRedis } from '../redis.ts';
import { ratio, round, spreads } from '../stats.ts';

export async function multiProcessWorkload(
  ctx: BenchContext,
): Promise<Record<string, WorkloadResult>> {
  const n = ctx.quick ? 20 : 200;
  const reps = ctx.quick ? 1 : 5;
  const counts = ctx.quick ? [2] : [1, 2, 3];
  const shape = diamond();
  const jobs = shape.jobs.length;
  const body = JSON.stringify(toPipeline(shape));
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'none', concurrency: 1 });
  const base = await startBaseline(redis.url, { work: false, concurrency: 1 });
  const results: Record<string, WorkloadResult> = {};
  try {
    for (const count of counts) {
      const per = Math.ceil(IN_FLIGHT / count);
      const cw = await spawnChainrWorkers(redis.url, count, per);
      let bw: Awaited<ReturnType<typeof spawnBaselineWorkers>> | undefined;
      try {
        bw = await spawnBaselineWorkers(redis.url, count, per, base.completion);
        const baselinePids = bw.pids;
        /** The batch's figures, with the worker processes' CPU time per job. */
        const timed = async (pids: number[], batch: () => ReturnType<typeof chainrBatch>) => {
          const cpu0 = processCpuMs(pids);
          const r = await batch();
          const cpu = processCpuMs(pids) - cpu0;
          return { ...throughput(r, n, jobs), workers_cpu_per_job_ms: cpu / (n * jobs) };
        };
        await chainrBatch(chainr, redis.admin, body, n, jobs); // warm-up, one batch each
        await baselineBatch(base, redis.admin, shape, n);
        const c: Record<string, number>[] = [];
        const b: Record<string, number>[] = [];
        for (let rep = 0; rep < reps; rep++) {
          c.push(await timed(cw.pids, () => chainrBatch(chainr, redis.admin, body, n, jobs)));
          b.push(await timed(baselinePids, () => baselineBatch(base, redis.admin, shape, n)));
          ctx.log(
            `multi-process ×${count} rep ${rep + 1}/${reps}: chainr ` +
              `${round(c[rep]?.pipelines_per_s ?? 0)} pipelines/s, baseline ${round(b[rep]?.pipelines_per_s ?? 0)}`,
          );
        }
        const cf = spreads(c);
        const bf = spreads(b);
        const common = { repetitions: reps, worker_processes: count, jobs_in_flight: per * count };
        results[`multi-process-${count}`] = {
          chainr: { ...common, pipelines: n, ...cf },
          baseline: { ...common, pipelines: n, ...bf },
          ratio: ratio(cf.pipelines_per_s, bf.pipelines_per_s),
          ratio_of: 'pipelines_per_s',
        };
      } finally {
        await cw.stop();
        await bw?.stop();
      }
    }
    return results;
  } finally {
    await chainr.stop();
    await base.stop();
    await redis.stop();
  }
}
