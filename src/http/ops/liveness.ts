/**
 * A process's liveness: one heartbeat per service it runs, what /readyz checks and what /metrics
 * serves, and the shutdown order (deregister first, so the instance list is right at once).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../store/keys.ts';
import { startHeartbeat } from './heartbeat.ts';
import { corruptRecordReporter, redisUpMetric, registry, storeMetrics } from './metrics.ts';
import {
  redisReachable,
  type MetricsSource,
  type OpsRoutesOptions,
  type ReadinessChecks,
} from './routes.ts';

/** A started service, as its process's liveness sees it. */
export interface ServiceHandle {
  service: 'sched' | 'work' | 'notif' | 'recycle';
  /** Its own parts are running (work: every queue worker), for /readyz besides Redis. */
  running(): boolean;
  /**
   * It keeps its own registration (work: registered before it takes a job, deregistered once
   * its jobs are finished or handed back; work/service.ts): no heartbeat is started for it here.
   */
  registersItself?: boolean;
  /** Its own metrics, served at /metrics beside the process's. */
  metrics?: MetricsSource;
  stop(): Promise<void>;
}

export interface LivenessOptions {
  /** A connection that fails fast during outages, so that /readyz answers quickly. */
  redis: Redis;
  keys: Keys;
  heartbeatIntervalMs: number;
  /** The queue sched's store metrics always report, workers or not. */
  defaultExecutor: string;
  logger: Logger;
  /** In shutdown order. */
  services: ServiceHandle[];
}

export interface Liveness {
  routes: OpsRoutesOptions;
  /** Not ready from now on; deregisters every instance, then stops the services in order. */
  stop(): Promise<void>;
}

export function startLiveness(options: LivenessOptions): Liveness {
  const { redis, keys, services, logger } = options;
  const heartbeats = services
    .filter((s) => !s.registersItself)
    .map((s) =>
      startHeartbeat({
        redis,
        keys,
        service: s.service,
        intervalMs: options.heartbeatIntervalMs,
        logger,
      }),
    );
  // The store's gauges are the same wherever they are read: sched serves them, once per process.
  const store = services.some((s) => s.service === 'sched')
    ? storeMetrics(redis, keys, options.defaultExecutor, corruptRecordReporter(logger))
    : undefined;
  let stopping = false;
  const checks: ReadinessChecks = { redis: () => redisReachable(redis) };
  for (const s of services) checks[s.service] = () => !stopping && s.running();
  return {
    routes: {
      checks,
      registries: [
        registry,
        redisUpMetric(redis),
        ...(store ? [store.registry] : []),
        ...services.flatMap((s) => (s.metrics ? [s.metrics] : [])),
      ],
    },
    async stop() {
      stopping = true;
      await Promise.all(heartbeats.map((h) => h.stop()));
      await store?.close();
      for (const s of services) await s.stop();
    },
  };
}
