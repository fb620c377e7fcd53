/**
 * Workload 5, memory: Redis `used_memory` before and after a batch of diamond runs (nothing is
 * removed: figures before any retention), per finished job and per finished run; and where the
 * bytes are, by kind of key (MEMORY USAGE). BullMQ's own event stream (capped at 10,000 entries)
 * is first filled to its cap on both sides, so that it does not count as a cost per job.
 */
import type { Redis } from 'ioredis';
import { BASE_PREFIX, startBaseline } from '../baseline.ts';
import { baselineBatch, chainrBatch, IN_FLIGHT, type BenchContext } from '../batch.ts';
import type { WorkloadResult } from '../batch.ts';
import { PREFIX, startChainr } from '../chainr.ts';
import { diamond, toPipeline } from '../pipelines.ts';
import { infoNumber, startBenchRedis } from '../redis.ts';
import { ratio, round, sleep, spreads } from '../stats.ts';

/** Bytes held by keys under a prefix, by kind of key. */
async function byKind(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const kinds: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.memory('USAGE', k, 'SAMPLES', 0);
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((k, i) => {
      const rest = k.slice(prefix.length);
      const kind = rest.startsWith('bull:')
        ? 'bullmq'
        : rest.startsWith('run:') && rest.endsWith(':spec')
          ? 'run_specs'
          : rest.startsWith('run:') || rest.startsWith('p:')
            ? 'run_hashes'
            : rest.startsWith('runs')
              ? 'run_indexes'
              : rest.startsWith('events')
                ? 'event_stream'
                : (rest.split(':')[0] ?? rest);
      kinds[kind] = (kinds[kind] ?? 0) + Number(sizes[i]?.[1] ?? 0);
    });
  } while (cursor !== '0');
  return kinds;
}

/** BullMQ's default cap of a queue's event stream (`streams.events.maxLen`). */
const BULLMQ_EVENTS_CAP = 10_000;
const BULL_EVENTS = 'bull:ready-noop:events';

export async function memoryWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const n = ctx.quick ? 20 : 300;
  const reps = ctx.quick ? 1 : 3;
  const shape = diamond();
  const jobs = shape.jobs.length;
  const body = JSON.stringify(toPipeline(shape));
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'thread', concurrency: IN_FLIGHT });
  const base = await startBaseline(redis.url, { work: true, concurrency: IN_FLIGHT });
  const used = () => infoNumber(redis.admin, 'memory', 'used_memory');
  const measure = async (batch: () => Promise<unknown>) => {
    await sleep(200);
    const before = await used();
    await batch();
    await sleep(200); // let BullMQ finish removing completed jobs
    const delta = (await used()) - before;
    return { per_job_bytes: delta / (n * jobs), per_run_bytes: delta / n };
  };
  try {
    // Warm-up: static keys, scripts, and BullMQ's event streams at their cap (not in --quick).
    const cap = ctx.quick ? 0 : BULLMQ_EVENTS_CAP;
    const fill = async (prefix: string, batch: () => Promise<unknown>) => {
      let runs = 0;
      do {
        await batch();
        runs += 10;
      } while ((await redis.admin.xlen(`${prefix}${BULL_EVENTS}`)) < cap);
      return runs;
    };
    const warmC = await fill(PREFIX, () => chainrBatch(chainr, redis.admin, body, 10, jobs));
    const warmB = await fill(BASE_PREFIX, () => baselineBatch(base, redis.admin, shape, 10));
    const c: Record<string, number>[] = [];
    const b: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      c.push(await measure(() => chainrBatch(chainr, redis.admin, body, n, jobs)));
      b.push(await measure(() => baselineBatch(base, redis.admin, shape, n)));
      ctx.log(
        `memory rep ${rep + 1}/${reps}: chainr ${round(c[rep]?.per_job_bytes ?? 0)} B/job, ` +
          `baseline ${round(b[rep]?.per_job_bytes ?? 0)} B/job`,
      );
    }
    /** Bytes per job of each kind of key, over every run stored (warm-up included). */
    const breakdown = (kinds: Record<string, number>, warm: number) =>
      Object.fromEntries(
        Object.entries(kinds).map(([k, v]) => [
          `${k}_per_job_bytes`,
          round(v / ((warm + reps * n) * jobs)),
        ]),
      );
    const cf = spreads(c);
    const bf = spreads(b);
    return {
      memory: {
        chainr: {
          repetitions: reps,
          runs_per_repetition: n,
          jobs_per_run: jobs,
          ...cf,
          by_key_kind: breakdown(await byKind(redis.admin, PREFIX), warmC),
        },
        baseline: {
          repetitions: reps,
          runs_per_repetition: n,
          jobs_per_run: jobs,
          ...bf,
          by_key_kind: breakdown(await byKind(redis.admin, BASE_PREFIX), warmB),
        },
        ratio: ratio(cf.per_job_bytes, bf.per_job_bytes),
        ratio_of: 'per_job_bytes',
      },
    };
  } finally {
    await chainr.stop();
    await base.stop();
    await redis.stop();
  }
}
