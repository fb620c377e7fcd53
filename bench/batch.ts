/** What every workload shares: its context and result types, and timed batches of pipelines. */
import type { Redis } from 'ioredis';
import type { Baseline } from './baseline.ts';
import type { ChainrBench } from './chainr.ts';
import type { Shape } from './pipelines.ts';
import { infoNumber, processCpuMs } from './redis.ts';

export interface BenchContext {
  quick: boolean;
  /** Where profiles go (with --cpu-prof). */
  outDir: string;
  cpuProf: boolean;
  /** The artifact workload's artifact size (issue #18: 256). */
  artifactMiB: number;
  log(message: string): void;
}

/** Figures by name (units in the names); spreads of repetitions, counts, nested breakdowns. */
export type Figures = Record<string, unknown>;

export interface WorkloadResult {
  chainr: Figures;
  baseline: Figures | null;
  ratio: number | null;
  /** The figure the ratio divides (chainr's median over the baseline's). */
  ratio_of: string | null;
}

export type Workload = (ctx: BenchContext) => Promise<Record<string, WorkloadResult>>;

/** Jobs in flight: each system's worker concurrency (issue #9, workload 1). */
export const IN_FLIGHT = 50;
/** Submissions in flight at once while a batch is submitted. */
export const SUBMITTERS = 8;

/** Calls `task` n times, at most `parallel` at once. */
export async function inParallel<T>(n: number, parallel: number, task: (i: number) => Promise<T>) {
  const out: T[] = new Array<T>(n);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < n; i = next++) out[i] = await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, lane));
  return out;
}

/**
 * CPU time spent by `fn` per job, beside its wall time: this process's, Redis's, and the client
 * process's (chainr's runs are submitted over HTTP from it; the baseline submits from here).
 */
async function costs<T extends { wall_ms: number }>(
  redis: Redis,
  jobs: number,
  fn: () => Promise<T>,
  clientPid?: number,
) {
  const redisCpu = async () =>
    (await infoNumber(redis, 'cpu', 'used_cpu_user')) +
    (await infoNumber(redis, 'cpu', 'used_cpu_sys'));
  const clientCpu = () => (clientPid === undefined ? 0 : processCpuMs([clientPid]));
  const cpu0 = process.cpuUsage();
  const [r0, c0] = [await redisCpu(), clientCpu()];
  const result = await fn();
  const cpu = process.cpuUsage(cpu0);
  const [r1, c1] = [await redisCpu(), clientCpu()];
  return {
    ...result,
    process_cpu_per_job_ms: (cpu.user + cpu.system) / 1000 / jobs,
    redis_cpu_per_job_ms: ((r1 - r0) * 1000) / jobs,
    client_cpu_per_job_ms: (c1 - c0) / jobs,
  };
}

/** Submits n runs through the API and waits until all ended; wall time from the first submit. */
export function chainrBatch(c: ChainrBench, redis: Redis, body: string, n: number, jobs: number) {
  return costs(redis, n * jobs, () => c.client.batch(c.url, body, n, SUBMITTERS), c.client.pid);
}

/** The same for the baseline: n pipelines submitted, wall time until all their leaves ran. */
export function baselineBatch(b: Baseline, redis: Redis, shape: Shape, n: number) {
  return costs(redis, n * shape.jobs.length, async () => {
    const wait = b.completion.wait(n);
    const t0 = performance.now();
    const uids = await inParallel(n, SUBMITTERS, () => b.submit(shape));
    return { wall_ms: (await wait) - t0, uids };
  });
}

/** Throughput figures of one batch of n pipelines of `jobs` jobs each. */
export function throughput(
  r: {
    wall_ms: number;
    process_cpu_per_job_ms: number;
    redis_cpu_per_job_ms: number;
    client_cpu_per_job_ms: number;
  },
  n: number,
  jobs: number,
): Record<string, number> {
  return {
    pipelines_per_s: (n * 1000) / r.wall_ms,
    jobs_per_s: (n * jobs * 1000) / r.wall_ms,
    wall_ms: r.wall_ms,
    process_cpu_per_job_ms: r.process_cpu_per_job_ms,
    redis_cpu_per_job_ms: r.redis_cpu_per_job_ms,
    client_cpu_per_job_ms: r.client_cpu_per_job_ms,
  };
}
