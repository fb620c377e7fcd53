/**
 * Redis commands per job (not timed: logging every command slows Redis down): diamond runs with
 * SLOWLOG at 0 µs, counted by command and by script, for chainr and for the baseline.
 */
import { startBaseline } from '../baseline.ts';
import { baselineBatch, chainrBatch, IN_FLIGHT, type BenchContext } from '../batch.ts';
import type { WorkloadResult } from '../batch.ts';
import { startChainr } from '../chainr.ts';
import { diamond, toPipeline } from '../pipelines.ts';
import { startBenchRedis } from '../redis.ts';
import { recordCommands } from '../slowlog.ts';
import { round } from '../stats.ts';

export async function commandsWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const n = ctx.quick ? 5 : 20;
  const shape = diamond();
  const jobs = shape.jobs.length;
  const body = JSON.stringify(toPipeline(shape));
  const redis = await startBenchRedis();
  const chainr = await startChainr(redis.url, { work: 'thread', concurrency: IN_FLIGHT });
  const base = await startBaseline(redis.url, { work: true, concurrency: IN_FLIGHT });
  try {
    await chainrBatch(chainr, redis.admin, body, 5, jobs); // warm-up: scripts loaded
    await baselineBatch(base, redis.admin, shape, 5);
    let collect = await recordCommands(redis.admin);
    await chainrBatch(chainr, redis.admin, body, n, jobs);
    const c = await collect(n * jobs);
    collect = await recordCommands(redis.admin);
    await baselineBatch(base, redis.admin, shape, n);
    const b = await collect(n * jobs);
    ctx.log(
      `commands: chainr ${c.client_commands_per_job} client + ${c.script_inner_commands_per_job} ` +
        `in-script commands per job; baseline ${b.client_commands_per_job} + ${b.script_inner_commands_per_job}`,
    );
    const total = (x: typeof c) => x.client_commands_per_job + x.script_inner_commands_per_job;
    return {
      commands: {
        chainr: { pipelines: n, all_commands_per_job: round(total(c)), ...c },
        baseline: { pipelines: n, all_commands_per_job: round(total(b)), ...b },
        ratio: round(total(c) / total(b)),
        ratio_of: 'all_commands_per_job',
      },
    };
  } finally {
    await chainr.stop();
    await base.stop();
    await redis.stop();
  }
}
