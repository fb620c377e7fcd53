/**
 * The worker side of the kubernetes workload (bench/workloads/kubernetes.ts), in its own process so
 * that its memory is its own: runs `chains` chains of two jobs on the kubernetes executor (the
 * second started as soon as the first's result is in, as the scheduler would), all at once, and
 * prints its figures as one JSON line, with when each chain's first result was in (by run uid).
 * Arguments: kubeconfig, chains, seconds the first job sleeps, qps, burst, and ms between the
 * first jobs' ends (0: they sleep alike; n: chain i's sleeps i*n ms more).
 */
import { randomUUID } from 'node:crypto';
import { connectKubernetes } from '../src/executors/kubernetes/client.ts';
import { KubernetesExecutor } from '../src/executors/kubernetes/executor.ts';
import type { ExecutionRequest } from '../src/executors/executor.ts';

const [kubeconfig = '', chains = '10', sleepS = '1', qps = '20', burst = '30', staggerMs = '0'] =
  process.argv.slice(2);
const client = connectKubernetes({
  kubeconfigPaths: [kubeconfig],
  rateLimits: { qps: Number(qps), burst: Number(burst) },
});
const executor = new KubernetesExecutor({ client });
const request = (job: string, uid: string, run: string): ExecutionRequest => ({
  uid,
  job,
  attempt: 1,
  image: 'busybox:1.36',
  run,
  env: {},
});
const io = () => ({ onLog: () => undefined, signal: new AbortController().signal });

const heapBefore = process.memoryUsage().heapUsed;
let running = 0;
let logsReceived = 0;
let peak = { running: 0, heapUsed: 0, rss: 0 };
const firstResultAt: Record<string, number> = {};
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (running >= peak.running) peak = { running, heapUsed: m.heapUsed, rss: m.rss };
}, 250);
const started = performance.now();
const outcomes = await Promise.all(
  Array.from({ length: Number(chains) }, async (_, i) => {
    const uid = randomUUID();
    running += 1;
    const sleep = (Number(sleepS) + (i * Number(staggerMs)) / 1000).toFixed(3);
    const first = await executor.run(
      request('first', uid, `sleep ${sleep}; echo a=1 >> "$CHAINR_OUTPUTS"`),
      io(),
    );
    firstResultAt[uid] = Date.now();
    let logged = false;
    const second = await executor.run(request('second', uid, 'echo done'), {
      ...io(),
      onLog: (line) => (logged ||= line === 'done'),
    });
    running -= 1;
    if (logged) logsReceived += 1;
    return first.status === 'SUCCESSFUL' && second.status === 'SUCCESSFUL';
  }),
);
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
await (executor as { close?: () => Promise<void> }).close?.();
process.stdout.write(
  `${JSON.stringify({
    succeeded: outcomes.filter(Boolean).length,
    logs_received: logsReceived,
    seconds,
    heap_before: heapBefore,
    peak,
    limiter: (client as { limiter?: { counts: unknown } }).limiter?.counts ?? null,
    first_result_at: firstResultAt,
  })}\n`,
);
process.exit(0);
