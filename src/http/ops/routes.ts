/**
 * /healthz, /readyz and /metrics: on sched's and gate's own port, on the ops server of work,
 * notif and recycle (server.ts), and once for everything on `chainr up`'s port.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { errorView } from '../errors.ts';

/** What /metrics reads: a registry, or one answered from elsewhere (a worker thread's). */
export type MetricsSource = Pick<Registry, 'metrics' | 'contentType'>;

/** Named parts that must be working for the service to be ready (e.g. redis, worker). */
export type ReadinessChecks = Record<string, () => boolean | Promise<boolean>>;

export interface OpsRoutesOptions {
  checks: ReadinessChecks;
  /** Served together at /metrics; a registry that fails to collect (Redis down) is left out. */
  registries: MetricsSource[];
  /** More about the process for /healthz (gate: its upstreams). */
  details?: () => Record<string, unknown>;
}

/** Redis answers PING within timeoutMs (a connection queues commands through an outage). */
export async function redisReachable(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>(
    (done) => (timer = setTimeout(() => done(false), timeoutMs)),
  );
  const ping = redis.ping().then(
    (reply) => reply === 'PONG',
    () => false,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerOpsRoutes(app: FastifyInstance, options: OpsRoutesOptions): void {
  const hide = { schema: { hide: true } };
  // Alive as long as the process answers: Kubernetes restarts it only when it stops answering.
  app.get('/healthz', hide, () => ({ status: 'ok', ...options.details?.() }));

  app.get('/readyz', hide, async (_request, reply) => {
    const names = Object.keys(options.checks);
    const results = await Promise.all(
      names.map(async (name) => {
        try {
          return await options.checks[name]?.();
        } catch {
          return false;
        }
      }),
    );
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i] === true]));
    const failing = names.filter((n) => !checks[n]);
    if (failing.length === 0) return { status: 'ready', checks };
    return reply.code(503).send({ ...errorView(`not ready: ${failing.join(', ')}`), checks });
  });

  app.get('/metrics', hide, async (_request, reply) => {
    const texts = await Promise.allSettled(options.registries.map((r) => r.metrics()));
    for (const t of texts)
      if (t.status === 'rejected') app.log.warn({ err: t.reason }, 'metrics collection failed');
    const body = texts.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : [])).join('\n');
    return reply.type(options.registries[0]?.contentType ?? 'text/plain').send(body);
  });
}
