/** GET /api/instances (live service instances by service) and GET /api/health (the API's own). */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { InstanceStore, type InstanceRecord } from '../../store/instances.ts';
import type { Keys } from '../../store/keys.ts';
import { countByService } from '../ops/metrics.ts';
import { redisReachable } from '../ops/routes.ts';
import { HttpError, resource } from './errors.ts';
import { errorResponses } from './schemas.ts';

const timestamp = { type: 'string', format: 'date-time' } as const;

const InstanceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'host, pid and a random suffix' },
    service: { type: 'string', enum: ['sched', 'work', 'notif', 'recycle'] },
    host: { type: 'string' },
    pid: { type: 'integer' },
    version: { type: 'string', description: 'chainr version' },
    startedAt: timestamp,
    lastSeen: { ...timestamp, description: 'Its last heartbeat' },
    executors: {
      type: 'array',
      items: { type: 'string' },
      description: 'work: the executors whose queues it takes jobs from',
    },
    concurrency: { type: 'integer', description: 'work: jobs it runs at once per executor' },
  },
} as const;

const countsSchema = {
  type: 'object',
  additionalProperties: { type: 'integer' },
  description: 'Live instances per service',
} as const;

function instanceView(r: InstanceRecord) {
  return {
    id: r.id,
    service: r.service,
    host: r.host,
    pid: r.pid,
    version: r.version,
    startedAt: new Date(r.startedAt).toISOString(),
    lastSeen: new Date(r.lastSeen).toISOString(),
    executors: r.executors,
    concurrency: r.concurrency,
  };
}

const SERVICE_ORDER = ['sched', 'work', 'notif', 'recycle'];

/** Grouped by service (in the order requests flow), oldest first within each. */
function byService(a: InstanceRecord, b: InstanceRecord): number {
  return SERVICE_ORDER.indexOf(a.service) - SERVICE_ORDER.indexOf(b.service);
}

const PING_TIMEOUT_MS = 1000;

export function registerInstances(app: FastifyInstance, redis: Redis, keys: Keys): void {
  const instances = new InstanceStore(redis, keys);

  resource(app, '/api/instances', {
    GET: {
      schema: {
        summary:
          'Live instances of every service, by service (those whose heartbeat has not expired)',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['InstanceList'] },
              counts: countsSchema,
              items: {
                type: 'array',
                items: InstanceSchema,
                description:
                  'Grouped by service (sched, work, notif, recycle), oldest first in each',
              },
            },
          },
          ...errorResponses(503),
        },
      },
      handler: async () => {
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
        summary: "The API's health: whether it reaches Redis, and live instances per service",
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['Health'] },
              status: { type: 'string', enum: ['ok'] },
              redis: {
                type: 'object',
                properties: { latencyMs: { type: 'number', description: 'Of one PING' } },
              },
              instances: countsSchema,
            },
          },
          ...errorResponses(503),
        },
      },
      handler: async () => {
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
