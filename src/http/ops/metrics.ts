/**
 * chainr's Prometheus metrics (docs/OPERATIONS.md has the table). Events are counted where they
 * happen, in one registry per process; the store's state (runs, queues, instances) is read at
 * scrape time by `storeMetrics`, which sched serves.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RUN_STATUSES } from '../../core/types.ts';
import type { CorruptRecordReporter } from '../../store/corrupt.ts';
import { InstanceStore } from '../../store/instances.ts';
import type { Keys } from '../../store/keys.ts';
import { ReadyQueues } from '../../store/queue.ts';
import { RunStore } from '../../store/runs.ts';
import { redisReachable } from './routes.ts';

export const registry = new Registry();
// Process and Node.js metrics under their usual names (process_*, nodejs_*), once per process:
// on its main thread. A worker thread (chainr up's worker) would only run their event-loop
// monitor and GC observer for nothing; its own figures are threadRuntimeRegistry's.
if (isMainThread) collectDefaultMetrics({ register: registry });

/**
 * The worker's own metrics, apart: served by the process the worker runs in, or by `chainr up`'s
 * main thread on behalf of its worker thread (services/work/thread.ts).
 */
export const workRegistry = new Registry();

export const jobDuration = new Histogram({
  name: 'chainr_job_duration_seconds',
  help: 'Time an attempt ran, from its start transition to its recorded result, by executor and status',
  labelNames: ['executor', 'status'] as const,
  buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
  registers: [workRegistry],
});

export const hopTime = new Histogram({
  name: 'chainr_job_hop_seconds',
  help: 'Time from an attempt becoming ready (enqueued, after any retry delay) to its start',
  labelNames: ['executor'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [workRegistry],
});

/** What the kubernetes executor reports of its traffic with the API server. */
export interface KubernetesApiSource {
  requests: Record<string, number>;
  waitedSeconds: number;
  rejections: number;
  openWatches: number;
  cachedObjects: number;
}

let kubernetesSource: (() => KubernetesApiSource) | undefined;

/**
 * The kubernetes executor's figures, read at each scrape. One executor per worker: a worker
 * started again in the same process (tests) replaces the source, the metrics stay registered once.
 */
export function registerKubernetesMetrics(read: () => KubernetesApiSource): void {
  const registered = kubernetesSource !== undefined;
  kubernetesSource = read;
  if (registered) return;
  const source = () => (kubernetesSource as () => KubernetesApiSource)();
  new Counter({
    name: 'chainr_kubernetes_api_requests_total',
    help: 'Requests the worker sent the Kubernetes API server, by kind (create, read, delete); watches and log streams count as they start',
    labelNames: ['kind'] as const,
    registers: [workRegistry],
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(source().requests)) this.inc({ kind }, n);
    },
  });
  new Counter({
    name: 'chainr_kubernetes_api_throttled_seconds_total',
    help: "Time requests waited for the client-side rate limit (CHAINR_KUBERNETES_QPS/BURST) or a 429's Retry-After, summed over requests",
    registers: [workRegistry],
    collect() {
      this.reset();
      this.inc(source().waitedSeconds);
    },
  });
  new Counter({
    name: 'chainr_kubernetes_api_rejections_total',
    help: 'Answers 429 Too Many Requests (API server overload or API Priority and Fairness), each pausing every request for its Retry-After',
    registers: [workRegistry],
    collect() {
      this.reset();
      this.inc(source().rejections);
    },
  });
  new Gauge({
    name: 'chainr_kubernetes_watches_open',
    help: 'Watches the worker holds open (one of Jobs and one of pods while it follows attempts)',
    registers: [workRegistry],
    collect() {
      this.set(source().openWatches);
    },
  });
  new Gauge({
    name: 'chainr_kubernetes_cached_objects',
    help: "Jobs and pods in the worker's informer cache",
    registers: [workRegistry],
    collect() {
      this.set(source().cachedObjects);
    },
  });
}

/**
 * A worker thread's own event loop and heap (`chainr up`'s worker, services/work/thread.ts), which the
 * process's nodejs_* metrics, the main thread's, do not show.
 */
export function threadRuntimeRegistry(): Registry {
  const own = new Registry();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  new Counter({
    name: 'chainr_work_thread_event_loop_busy_seconds_total',
    help: "Time the worker thread's event loop spent running code (its rate is the loop's utilization, 0 to 1)",
    registers: [own],
    collect() {
      this.reset();
      this.inc(performance.eventLoopUtilization().active / 1000);
    },
  });
  new Gauge({
    name: 'chainr_work_thread_event_loop_lag_p99_seconds',
    help: "The 99th percentile of the worker thread's event loop delay since the previous scrape",
    registers: [own],
    collect() {
      this.set(delay.count > 0 ? delay.percentile(99) / 1e9 : 0);
      delay.reset();
    },
  });
  new Gauge({
    name: 'chainr_work_thread_heap_used_bytes',
    help: "Bytes in use in the worker thread's V8 heap",
    registers: [own],
    collect() {
      this.set(getHeapStatistics().used_heap_size);
    },
  });
  return own;
}

export const repairsTotal = new Counter({
  name: 'chainr_recycle_repairs_total',
  help: 'Repairs made by recycle, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const deliveriesTotal = new Counter({
  name: 'chainr_notification_deliveries_total',
  help: 'Attempts to deliver a notification, by medium type and outcome',
  labelNames: ['medium', 'outcome'] as const,
  registers: [registry],
});

/**
 * `chainr_redis_up`: whether this process's Redis answers PING within a second, at scrape time.
 * Served by every service; when it is 0, sched's store families (storeMetrics) are left out of
 * the scrape rather than shown with values nobody read.
 */
export function redisUpMetric(redis: Redis): Registry {
  const own = new Registry();
  new Gauge({
    name: 'chainr_redis_up',
    help: "1 when this process's Redis answered PING within a second at this scrape, 0 otherwise",
    registers: [own],
    async collect() {
      this.set((await redisReachable(redis)) ? 1 : 0);
    },
  });
  return own;
}

export const corruptRecordsTotal = new Counter({
  name: 'chainr_corrupt_records_total',
  help: 'Records in Redis a list left out because they cannot be read, by kind (run, delivery, instance)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const streamReadersDroppedTotal = new Counter({
  name: 'chainr_sse_readers_dropped_total',
  help: 'Readers of a long-lived answer disconnected because they fell behind (their outgoing buffer passed CHAINR_STREAM_BUFFER_BYTES), by stream (events, run, log)',
  labelNames: ['stream'] as const,
  registers: [registry],
});

/**
 * Counts each corrupt record met and logs it, once per record in this process (a list polled
 * every few seconds would otherwise repeat it at every poll).
 */
export function corruptRecordReporter(logger: {
  warn(obj: object, msg: string): void;
}): CorruptRecordReporter {
  const logged = new Set<string>();
  return (err) => {
    corruptRecordsTotal.inc({ kind: err.kind });
    const id = `${err.kind}/${err.id}`;
    if (logged.has(id) || logged.size >= 10_000) return;
    logged.add(id);
    logger.warn(
      { kind: err.kind, id: err.id, problem: err.problem },
      `skipped a ${err.kind} record that cannot be read`,
    );
  };
}

const QUEUE_STATES = ['waiting', 'active', 'delayed'] as const;

/**
 * The store's figures read at scrape time, each from counters Redis keeps anyway: a ZCARD per
 * run status, the jobs-ended hash, BullMQ's job counts per ready queue, the instance index. The queues are those of
 * the executors live workers serve, and the default executor's.
 */
export function storeMetrics(
  redis: Redis,
  keys: Keys,
  defaultExecutor: string,
  reportCorrupt: CorruptRecordReporter,
): { registry: Registry; close(): Promise<void> } {
  const own = new Registry();
  const runs = new RunStore(redis, keys, 0);
  const queues = new ReadyQueues(redis, keys);
  const instances = new InstanceStore(redis, keys, reportCorrupt);
  new Gauge({
    name: 'chainr_runs',
    help: 'Runs in each status',
    labelNames: ['status'] as const,
    registers: [own],
    async collect() {
      const counts = await runs.counts();
      for (const status of RUN_STATUSES) this.set({ status }, counts[status]);
    },
  });
  new Counter({
    name: 'chainr_jobs_ended_total',
    help: 'Jobs ended, by final status (SUCCESSFUL, FAILED, SKIPPED, CANCELED), kept by the store',
    labelNames: ['status'] as const,
    registers: [own],
    async collect() {
      // The count lives in Redis (every transition script adds to it): shown as it is there.
      const ended = await redis.hgetall(keys.jobsEnded);
      this.reset();
      for (const [status, n] of Object.entries(ended)) this.inc({ status }, Number(n));
    },
  });
  new Gauge({
    name: 'chainr_queue_jobs',
    help: 'Ready attempts in each executor queue, by state (waiting, active, delayed)',
    labelNames: ['executor', 'state'] as const,
    registers: [own],
    async collect() {
      const live = await instances.live();
      const executors = new Set([defaultExecutor, ...live.flatMap((i) => i.executors ?? [])]);
      this.reset();
      for (const executor of executors) {
        const counts = await queues.queue(executor).getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) this.set({ executor, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'chainr_instances',
    help: 'Live service instances (heartbeat not expired), by service',
    labelNames: ['service'] as const,
    registers: [own],
    async collect() {
      this.reset();
      for (const [service, n] of countByService(await instances.live())) this.set({ service }, n);
    },
  });
  return { registry: own, close: () => queues.close() };
}

export function countByService(records: readonly { service: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.service, (counts.get(r.service) ?? 0) + 1);
  return counts;
}
