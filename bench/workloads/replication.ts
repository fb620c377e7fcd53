/**
 * Workload 8, replication: what acknowledging a run only once a replica holds it costs
 * (CHAINR_WAIT_REPLICAS=1, a WAIT after each run's creation, shared by the submissions of one
 * turn). Twice: on a Redis without replica and chainr without WAIT (as the diamond workload), and
 * on a Redis with one replica and chainr waiting for it. Each time the diamond batches (chainr
 * against the baseline on the same Redis) and POST /api/runs of the seed pipeline at a fixed rate
 * while the worker runs what they start.
 */
import { readFileSync } from 'node:fs';
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
import { startBenchRedis, type BenchRedis } from '../redis.ts';
import { ratio, round, spreads } from '../stats.ts';

const POST_RATE = 200;

export async function replicationWorkload(
  ctx: BenchContext,
): Promise<Record<string, WorkloadResult>> {
  const n = ctx.quick ? 20 : 200;
  const reps = ctx.quick ? 1 : 5;
  const durationS = ctx.quick ? 2 : 5;
  const shape = diamond();
  const jobs = shape.jobs.length;
  const body = JSON.stringify(toPipeline(shape));
  const seed = readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8');
  const results: Record<string, WorkloadResult> = {};
  for (const replicas of [0, 1]) {
    const name = replicas === 0 ? 'replication-none' : 'replication-wait';
    const redis = await startBenchRedis();
    let replica: BenchRedis | undefined;
    const chainr = await (async () => {
      if (replicas > 0) replica = await startBenchRedis({ replicaOf: redis.port });
      return startChainr(redis.url, {
        work: 'thread',
        concurrency: IN_FLIGHT,
        replication: { replicas, timeoutMs: 2000 },
      });
    })();
    const base = await startBaseline(redis.url, { work: true, concurrency: IN_FLIGHT });
    try {
      await chainrBatch(chainr, redis.admin, body, n, jobs); // warm-up, as the diamond workload
      await baselineBatch(base, redis.admin, shape, n);
      const c: Record<string, number>[] = [];
      const b: Record<string, number>[] = [];
      const posts: Record<string, number>[] = [];
      const post = {
        url: `${chainr.url}/api/runs`,
        method: 'POST' as const,
        body: seed,
        connections: 50,
        rate: POST_RATE,
        durationS,
      };
      await chainr.client.load({ ...post, durationS: 1 }); // warm-up
      for (let rep = 0; rep < reps; rep++) {
        c.push(throughput(await chainrBatch(chainr, redis.admin, body, n, jobs), n, jobs));
        b.push(throughput(await baselineBatch(base, redis.admin, shape, n), n, jobs));
        const f = await chainr.client.load(post);
        posts.push({
          post_latency_p50_ms: f.latency_p50_ms,
          post_latency_p99_ms: f.latency_p99_ms,
          post_achieved_per_s: f.achieved_per_s,
          post_errors: f.errors,
        });
        ctx.log(
          `${name} rep ${rep + 1}/${reps}: chainr ${round(c[rep]?.pipelines_per_s ?? 0)} ` +
            `pipelines/s, baseline ${round(b[rep]?.pipelines_per_s ?? 0)}; POST p99 ` +
            `${round(f.latency_p99_ms)} ms, ${f.errors} errors`,
        );
      }
      const chainrFigures = spreads(c.map((figures, i) => ({ ...figures, ...posts[i] })));
      const baseFigures = spreads(b);
      const common = { pipelines: n, jobs_per_pipeline: jobs, jobs_in_flight: IN_FLIGHT };
      results[name] = {
        chainr: {
          repetitions: reps,
          replicas,
          wait_replicas: replicas,
          post_offered_per_s: POST_RATE,
          post_duration_s: durationS,
          ...common,
          ...chainrFigures,
        },
        baseline: { repetitions: reps, replicas, ...common, ...baseFigures },
        ratio: ratio(chainrFigures.pipelines_per_s, baseFigures.pipelines_per_s),
        ratio_of: 'pipelines_per_s',
      };
    } finally {
      await chainr.stop();
      await base.stop();
      await replica?.stop();
      await redis.stop();
    }
  }
  return results;
}
