/**
 * Workload 8, kubernetes: the kubernetes executor against the Kubernetes API simulator
 * (test/kube-sim) with 20 ms added to every request, chains of two jobs all at once (the second
 * starts when the first's result is in), measured twice:
 *
 * - `kubernetes`, saturated: 1000 chains whose first jobs sleep alike, so that they end about as
 *   fast as they were created, and each end asks for two requests (the dependent's create and its
 *   log stream): the rate limiter's queue builds and the hop is mostly the wait for a token;
 * - `kubernetes-staggered`: 200 chains whose first jobs end 40 ms apart (25 ends a second, 50
 *   requests a second against a QPS of 100): the limiter is not saturated, and the hop is the
 *   executor's own.
 *
 * Figures: API requests per job (by verb), watch requests per worker and the most open at once,
 * the time from a first job's pod ending (its process exit, as the simulator's kubelet reports it)
 * to the creation of its dependent's Job, split at the moment the worker had the first job's
 * result, Jobs/s against the configured QPS, the worker's memory per followed job (its own
 * process), and how late the simulator's own event loop ran (it serves every request and runs
 * every pod's process: when it is late, the figures are the simulator's as much as chainr's).
 * See docs/BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BenchContext, WorkloadResult } from '../batch.ts';
import { percentile, round } from '../stats.ts';
import { KubeSim } from '../../test/kube-sim/simulator.ts';
import type { SimPod } from '../../test/kube-sim/store.ts';

const LATENCY_MS = 20;
const QPS = 100;
const BURST = 200;
/** Between the staggered variant's ends: 25 a second, each costing a create and a log stream. */
const STAGGER_MS = 40;

function runWorker(args: string[]): Promise<Record<string, unknown>> {
  const script = fileURLToPath(new URL('../kubernetes-worker.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>)
        : reject(new Error(`the kubernetes bench worker exited ${code}`)),
    );
  });
}

const percentiles = (samples: number[]) => ({
  p50: round(percentile(samples, 50)),
  p90: round(percentile(samples, 90)),
  p99: round(percentile(samples, 99)),
  samples: samples.length,
});

async function measure(
  ctx: BenchContext,
  variant: { chains: number; staggerMs: number },
): Promise<WorkloadResult> {
  const { chains, staggerMs } = variant;
  // Long enough for every first job to be created (two requests each at QPS) before any ends.
  const sleepS = Math.ceil((chains * 2) / QPS) + 10;
  const sim = await KubeSim.start({ latencyMs: LATENCY_MS, stepMs: 200, killGraceMs: 1000 });
  const podEnded = new Map<string, number>(); // Job name -> when its pod's process ended
  const jobCreated = new Map<string, number>(); // Job name -> when the API server stored it
  sim.store.onChange((event) => {
    if (event.resource === 'jobs' && event.type === 'ADDED')
      jobCreated.set(event.object.metadata.name, Date.now());
    if (event.resource !== 'pods') return;
    const pod = event.object as SimPod;
    const job = pod.metadata.ownerReferences?.[0]?.name;
    if (job && pod.status?.containerStatuses?.[0]?.state?.terminated && !podEnded.has(job))
      podEnded.set(job, Date.now());
  });
  const simulatorDelay = monitorEventLoopDelay({ resolution: 10 });
  simulatorDelay.enable();
  let maxOpenWatches = 0;
  const sampler = setInterval(() => {
    maxOpenWatches = Math.max(maxOpenWatches, sim.openWatches);
  }, 100);
  try {
    ctx.log(
      `  ${chains} chains of 2 jobs, ${LATENCY_MS} ms API latency, QPS ${QPS}/${BURST}, ` +
        (staggerMs ? `first jobs ending ${staggerMs} ms apart` : 'first jobs ending together'),
    );
    const worker = await runWorker([
      sim.writeKubeconfig(),
      String(chains),
      String(sleepS),
      String(QPS),
      String(BURST),
      String(staggerMs),
    ]);
    const jobs = chains * 2;
    const requests = sim.requests;
    const byVerb: Record<string, number> = {};
    for (const r of requests) {
      const key = `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
      byVerb[key] = (byVerb[key] ?? 0) + 1;
    }
    // Pod end of each first job -> creation of its chain's second Job (matched by run label),
    // split where the worker had the first job's result.
    const resultAt = worker.first_result_at as Record<string, number>;
    const hops: number[] = [];
    const toResult: number[] = [];
    const toCreate: number[] = [];
    for (const [job, ended] of podEnded) {
      if (!job.startsWith('chainr-first-')) continue;
      const run = sim.store
        .list('jobs', (j) => j.metadata.name === job)
        .map((j) => j.metadata.labels?.['chainr.io/run'])[0];
      const dependent = sim.store.list(
        'jobs',
        (j) =>
          j.metadata.labels?.['chainr.io/run'] === run &&
          j.metadata.name.startsWith('chainr-second-'),
      )[0];
      const at = dependent && jobCreated.get(dependent.metadata.name);
      const result = run === undefined ? undefined : resultAt[run];
      if (at === undefined || result === undefined) continue;
      hops.push(at - ended);
      toResult.push(result - ended);
      toCreate.push(at - result);
    }
    const peak = worker.peak as { running: number; heapUsed: number; rss: number };
    const seconds = worker.seconds as number;
    return {
      chainr: {
        chains,
        jobs,
        first_jobs_end_apart_ms: staggerMs,
        succeeded_chains: worker.succeeded,
        dependent_logs_received: worker.logs_received,
        api_latency_ms: LATENCY_MS,
        qps: QPS,
        burst: BURST,
        api_requests_per_job: round(requests.length / jobs),
        api_requests_by_verb: byVerb,
        watch_requests: requests.filter((r) => r.verb === 'watch').length,
        open_watches_max: maxOpenWatches,
        pod_end_to_dependent_create_ms: percentiles(hops),
        pod_end_to_result_ms: percentiles(toResult),
        result_to_dependent_create_ms: percentiles(toCreate),
        jobs_per_second: round(jobs / seconds),
        wall_seconds: round(seconds),
        worker_peak_followed: peak.running,
        worker_heap_bytes_per_followed_job: round(
          (peak.heapUsed - (worker.heap_before as number)) / Math.max(1, peak.running),
        ),
        worker_peak_rss_bytes: peak.rss,
        limiter: worker.limiter,
        simulator_event_loop_delay_ms: {
          p50: round(simulatorDelay.percentile(50) / 1e6),
          p99: round(simulatorDelay.percentile(99) / 1e6),
          max: round(simulatorDelay.max / 1e6),
        },
      },
      baseline: null,
      ratio: null,
      ratio_of: null,
    };
  } finally {
    clearInterval(sampler);
    simulatorDelay.disable();
    await sim.stop();
  }
}

export async function kubernetesWorkload(
  ctx: BenchContext,
): Promise<Record<string, WorkloadResult>> {
  return {
    kubernetes: await measure(ctx, { chains: ctx.quick ? 100 : 1000, staggerMs: 0 }),
    'kubernetes-staggered': await measure(ctx, {
      chains: ctx.quick ? 50 : 200,
      staggerMs: STAGGER_MS,
    }),
  };
}
