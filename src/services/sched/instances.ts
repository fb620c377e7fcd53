/** GET /api/instances (live service instances by service) and GET /api/health (the API's own). */
import type { FastifyInstance } from 'fastify';
import {
  HealthSchema,
  InstanceListSchema,
  type Health,
  type Instance,
  type InstanceList,
  type Service,
  SERVICES,
} from '../../api/wire.ts';
import type { Redis } from 'ioredis';
import { InstanceStore, type InstanceRecord } from '../../store/instances.ts';
import type { CorruptRecordReporter } from '../../store/corrupt.ts';
import type { Keys } from '../../store/keys.ts';
import { countByService } from '../../http/ops/metrics.ts';
import { redisReachable } from '../../http/ops/routes.ts';
import { HttpError, resource } from '../../http/errors.ts';
import { answer, errorResponses } from './schemas.ts';

function instanceView(r: InstanceRecord): Instance {
  return {
    id: r.id,
    service: r.service as Service,
    host: r.host,
    pid: r.pid,
    version: r.version,
    startedAt: new Date(r.startedAt).toISOString(),
    lastSeen: new Date(r.lastSeen).toISOString(),
    executors: r.executors,
    concurrency: r.concurrency,
  };
}

const SERVICE_ORDER: readonly string[] = SERVICES;

/** Grouped by service (in the order requests flow), oldest first within each. */
function byService(a: InstanceRecord, b: InstanceRecord): number {
  return SERVICE_ORDER.indexOf(a.service) - SERVICE_ORDER.indexOf(b.service);
}

const PING_TIMEOUT_MS = 1000;

export function registerInstances(
  app: FastifyInstance,
  redis: Redis,
  keys: Keys,
  reportCorrupt: CorruptRecordReporter,
): void {
  const instances = new InstanceStore(redis, keys, reportCorrupt);

  resource(app, '/api/instances', {
    GET: {
      schema: {
        operationId: 'listInstances',
        summary:
          'Live instances of every service, by service (those whose heartbeat has not expired)',
        tags: ['operations'],
        response: { 200: answer(InstanceListSchema, 'The instances'), ...errorResponses(503) },
      },
      handler: async (): Promise<InstanceList> => {
        // live() lists oldest first, and the sort is stable.
        const live = (await instances.live()).sort(byService);
        return {
          kind: 'InstanceList',
          counts: Object.fromEntries(countByService(live)),
          items: live.map(instanceView),
        };
      },
    },
  });

  resource(app, '/api/health', {
    GET: {
      schema: {
        operationId: 'getHealth',
        summary: "The API's health: whether it reaches Redis, and live instances per service",
        tags: ['operations'],
        response: { 200: answer(HealthSchema, 'Healthy'), ...errorResponses(503) },
      },
      handler: async (): Promise<Health> => {
        const start = performance.now();
        if (!(await redisReachable(redis, PING_TIMEOUT_MS)))
          throw new HttpError(503, `Redis does not answer within ${PING_TIMEOUT_MS} ms`);
        const latencyMs = Math.round((performance.now() - start) * 100) / 100;
        const counts = countByService(await instances.live());
        return {
          kind: 'Health',
          status: 'ok',
          redis: { latencyMs },
          instances: Object.fromEntries(counts),
        };
      },
    },
  });
}
