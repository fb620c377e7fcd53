/**
 * Workload 4, API: POST /api/runs of the seed pipeline at a fixed offered rate, then
 * GET /api/runs?limit=50 with 100,000 runs stored. sched alone in this process (no worker: the
 * API's own cost), the load generator in the client process. The baseline has no API: no ratio.
 */
import { readFileSync } from 'node:fs';
import type { BenchContext, WorkloadResult } from '../batch.ts';
import { startChainr, type ChainrBench } from '../chainr.ts';
import type { LoadOptions } from '../client-link.ts';
import { profiled, saveProfile } from '../profile.ts';
import { infoNumber, startBenchRedis, type BenchRedis } from '../redis.ts';
import { perUnit, recordCommands } from '../slowlog.ts';
import { round, sleep, spreads } from '../stats.ts';

const POST_RATE = 500;
const LIST_RATE = 100;

/** Calls of one command so far (INFO commandstats). */
async function calls(redis: BenchRedis, command: string): Promise<number> {
  const text = await redis.admin.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(text)?.[1] ?? 0);
}

/** Waits until Redis is quiet: whatever the requests set going is done. */
async function settle(redis: BenchRedis): Promise<void> {
  const processed = () => infoNumber(redis.admin, 'stats', 'total_commands_processed');
  for (let last = await processed(); ;) {
    await sleep(250);
    const now = await processed();
    if (now - last < 20) return;
    last = now;
  }
}

/**
 * One load run's figures, with the CPU time sched and Redis spent per request handled. Requests
 * are counted in Redis (`handled`: a count that each request adds one to): what the server
 * handled.
 */
async function measured(
  c: ChainrBench,
  redis: BenchRedis,
  o: LoadOptions,
  handledSoFar: () => Promise<number>,
) {
  const redisCpu = async () =>
    (await infoNumber(redis.admin, 'cpu', 'used_cpu_user')) +
    (await infoNumber(redis.admin, 'cpu', 'used_cpu_sys'));
  await settle(redis);
  const cpu0 = process.cpuUsage();
  const [r0, m0] = [await redisCpu(), await handledSoFar()];
  const f = await c.client.load(o);
  await settle(redis);
  const cpu = process.cpuUsage(cpu0);
  const handled = (await handledSoFar()) - m0;
  return {
    ...f,
    handled,
    sched_cpu_per_request_ms: (cpu.user + cpu.system) / 1000 / handled,
    redis_cpu_per_request_ms: (((await redisCpu()) - r0) * 1000) / handled,
  };
}

const prefixed = (prefix: string, f: Record<string, number>) =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [`${prefix}_${k}`, v]));

/**
 * Redis commands per request (SLOWLOG; not timed; `marker`: the command or script each request
 * runs once, as the counts name it), and with --cpu-prof a profile.
 */
async function inspect(
  ctx: BenchContext,
  c: ChainrBench,
  redis: BenchRedis,
  o: LoadOptions,
  marker: string,
) {
  await settle(redis);
  const collect = await recordCommands(redis.admin);
  await c.client.load({ ...o, rate: 50, durationS: 1 });
  await settle(redis);
  const counts = await collect(marker);
  if (ctx.cpuProf) {
    const [p, profile] = await profiled(() => c.client.load({ ...o, rate: 50, durationS: 3 }));
    const name = `api-${o.method.toLowerCase()}`;
    const s = await saveProfile(ctx.outDir, name, profile, p.requests);
    ctx.log(`${name}: ${s.cpu_per_job_ms} ms sampled per request`);
  }
  return perUnit(counts, 'request');
}

export async function apiWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const durationS = ctx.quick ? 2 : 6;
  const reps = ctx.quick ? 1 : 3;
  const stored = ctx.quick ? 2_000 : 100_000;
  const seed = readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8');
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'none', concurrency: 1 });
  try {
    const post: LoadOptions = {
      url: `${chainr.url}/api/runs`,
      method: 'POST',
      body: seed,
      connections: 50,
      rate: POST_RATE,
      durationS,
    };
    // Warm-up at the measured rate: after 100 requests at 100/s, the first measured repetition
    // still spent half as much CPU again per request as the next two (JIT).
    await chainr.client.load({ ...post, durationS: 2 });
    const posts: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const runs = () => redis.admin.zcard(chainr.keys.runs);
      const f = prefixed('post', await measured(chainr, redis, post, runs));
      posts.push(f);
      ctx.log(
        `api POST rep ${rep + 1}/${reps}: p50 ${round(f.post_latency_p50_ms ?? 0)} ms, p99 ` +
          `${round(f.post_latency_p99_ms ?? 0)} ms, ${round(f.post_achieved_per_s ?? 0)}/s, ` +
          `${f.post_errors} errors, ${round(f.post_sched_cpu_per_request_ms ?? 0)} ms CPU each`,
      );
    }
    const postCommands = await inspect(ctx, chainr, redis, post, 'chainr:createRun');

    // Top up to `stored` runs through the API's own write path (RunStore.create), without HTTP,
    // from the client's process: the garbage of 100,000 creations in this one (sched's) slowed
    // its collections while the list pages were measured.
    const missing = stored - (await redis.admin.zcard(chainr.keys.runs));
    const t0 = performance.now();
    await chainr.client.store(chainr.keys.prefix, seed, Math.max(0, missing));
    ctx.log(`api: stored ${missing} more runs in ${round((performance.now() - t0) / 1000)} s`);

    const list: LoadOptions = {
      url: `${chainr.url}/api/runs?limit=50`,
      method: 'GET',
      connections: 10,
      rate: LIST_RATE,
      durationS: ctx.quick ? 2 : 5,
    };
    await chainr.client.load({ ...list, durationS: 1 }); // warm-up
    const lists: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const f = prefixed('list', await measured(chainr, redis, list, () => calls(redis, 'zrange')));
      lists.push(f);
      ctx.log(
        `api list rep ${rep + 1}/${reps}: p50 ${round(f.list_latency_p50_ms ?? 0)} ms, p99 ` +
          `${round(f.list_latency_p99_ms ?? 0)} ms, ${round(f.list_sched_cpu_per_request_ms ?? 0)} ms CPU each`,
      );
    }
    const listCommands = await inspect(ctx, chainr, redis, list, 'ZRANGE');
    return {
      api: {
        chainr: {
          repetitions: reps,
          post_offered_per_s: POST_RATE,
          post_duration_s: durationS,
          post_connections: post.connections,
          list_offered_per_s: LIST_RATE,
          list_page_size: 50,
          runs_stored: await redis.admin.zcard(chainr.keys.runs),
          ...spreads(posts.map((p, i) => ({ ...p, ...lists[i] }))),
          post_redis_commands: postCommands,
          list_redis_commands: listCommands,
        },
        baseline: null,
        ratio: null,
        ratio_of: null,
      },
    };
  } finally {
    await chainr.stop();
    await redis.stop();
  }
}
