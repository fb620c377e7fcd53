/**
 * Workload fan-out: a producer outputs a JSON array of 1,000 items, a forEach job fans out into
 * 1,000 instances, a join waits for them. The figures are the time from the producer's end to
 * the first instance's start (the expansion, done by the transition that records the producer's
 * result), to the last one's, and the whole run's throughput as a ratio to the fan-in workload's
 * (1 → 1,000 → 1, written out), run alternately on the same deployment.
 */
import { chainrBatch, IN_FLIGHT, type BenchContext, type WorkloadResult } from '../batch.ts';
import { BENCH_ITEMS, startChainr } from '../chainr.ts';
import { fanIn, toPipeline } from '../pipelines.ts';
import { startBenchRedis } from '../redis.ts';
import { ratio, round, spreads } from '../stats.ts';

function forEachPipeline(width: number): Record<string, unknown> {
  const job = (extra: Record<string, unknown>) => ({
    image: 'none',
    run: 'true',
    executor: 'noop',
    ...extra,
  });
  return {
    kind: 'Pipeline',
    metadata: { name: `bench-fan-out-${width}` },
    jobs: {
      list: job({ env: { [BENCH_ITEMS]: String(width) } }),
      part: job({ dependsOn: [{ job: 'list' }], forEach: '${{ jobs.list.outputs.items }}' }),
      join: job({ dependsOn: [{ job: 'part' }] }),
    },
  };
}

export async function fanOutWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const width = ctx.quick ? 200 : 1000;
  const reps = ctx.quick ? 2 : 5;
  const fanOutBody = JSON.stringify(forEachPipeline(width));
  const fanInShape = fanIn(width);
  const fanInBody = JSON.stringify(toPipeline(fanInShape));
  // list, part (the group), its instances, join
  const fanOutJobs = width + 3;
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'loop', concurrency: IN_FLIGHT });
  try {
    await chainrBatch(chainr, redis.admin, fanOutBody, 1, fanOutJobs); // warm-up
    await chainrBatch(chainr, redis.admin, fanInBody, 1, fanInShape.jobs.length);
    const out: Record<string, number>[] = [];
    const inn: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      chainr.timings.at.clear();
      const r = await chainrBatch(chainr, redis.admin, fanOutBody, 1, fanOutJobs);
      const uid = r.uids[0] ?? '';
      const at = (job: string) => chainr.timings.at.get(`${uid}/${job}`);
      const instances = Array.from({ length: width }, (_, i) => at(`part-${i}`)).filter(
        (t): t is number => t !== undefined,
      );
      const producer = at('list');
      if (producer === undefined || instances.length !== width)
        throw new Error(`fan-out: ${instances.length} of ${width} instances ran`);
      out.push({
        producer_to_first_instance_ms: Math.min(...instances) - producer,
        producer_to_last_instance_ms: Math.max(...instances) - producer,
        wall_ms: r.wall_ms,
        jobs_per_s: (fanOutJobs * 1000) / r.wall_ms,
      });
      const f = await chainrBatch(chainr, redis.admin, fanInBody, 1, fanInShape.jobs.length);
      inn.push({ wall_ms: f.wall_ms, jobs_per_s: (fanInShape.jobs.length * 1000) / f.wall_ms });
      ctx.log(
        `fan-out rep ${rep + 1}/${reps}: producer → first instance ${round(out[rep]?.producer_to_first_instance_ms ?? 0)} ms, ` +
          `${round(out[rep]?.jobs_per_s ?? 0)} jobs/s (fan-in ${round(inn[rep]?.jobs_per_s ?? 0)} jobs/s)`,
      );
    }
    const o = spreads(out);
    const i = spreads(inn);
    return {
      'fan-out': {
        chainr: { repetitions: reps, instances: width, jobs_in_flight: IN_FLIGHT, ...o },
        baseline: { workload: 'fan-in, on the same deployment', ...i },
        ratio: ratio(o.jobs_per_s, i.jobs_per_s),
        ratio_of: 'jobs_per_s',
      },
    };
  } finally {
    await chainr.stop();
    await redis.stop();
  }
}
