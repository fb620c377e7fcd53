/** The notifications resource: delivery records of the notif service (GET /api/notifications). */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/keys.ts';
import {
  DELIVERY_STATUSES,
  NotificationStore,
  type DeliveryRecord,
  type DeliveryStatus,
} from '../../store/notifications.ts';
import { HttpError, resource } from './errors.ts';
import { errorResponses } from './schemas.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function notificationView(r: DeliveryRecord) {
  return {
    kind: 'Notification' as const,
    metadata: { uid: r.key, creationTimestamp: iso(r.createdAt) },
    event: r.event,
    eventId: r.eventId,
    run: { uid: r.uid, name: r.pipeline, selfLink: `/api/runs/${r.uid}` },
    job: r.job,
    rule: r.rule,
    medium: r.medium,
    mediumType: r.mediumType,
    inline: r.inline,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    nextAttemptAt: iso(r.nextAttemptAt),
  };
}

const timestamp = { type: 'string', format: 'date-time' } as const;

const NotificationSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['Notification'] },
    metadata: {
      type: 'object',
      properties: {
        uid: { type: 'string', description: 'The idempotency key: <event id>/<rule>/<medium>' },
        creationTimestamp: timestamp,
      },
    },
    event: { type: 'string', description: 'failure, success, start, job-failure, ...' },
    eventId: { type: 'string', description: 'The event stream entry' },
    run: {
      type: 'object',
      properties: {
        uid: { type: 'string' },
        name: { type: 'string', description: "The pipeline's metadata.name" },
        selfLink: { type: 'string' },
      },
    },
    job: { type: 'string' },
    rule: {
      type: 'string',
      description: "0, 1, ... the pipeline's rules; d0, ... the deployment's",
    },
    medium: { type: 'string', description: 'The medium name (webhook / email when inline)' },
    mediumType: { type: 'string', enum: ['log', 'webhook', 'slack', 'email', 'unknown'] },
    inline: { type: 'boolean', description: 'Defined in the pipeline rather than the deployment' },
    status: { type: 'string', enum: [...DELIVERY_STATUSES] },
    attempts: { type: 'integer' },
    lastError: { type: 'string', description: 'Why the last attempt failed' },
    createdAt: timestamp,
    updatedAt: timestamp,
    nextAttemptAt: { ...timestamp, description: 'When the next attempt is due, while retrying' },
  },
} as const;

/** base64url of the last key of a page: opaque to clients. */
const encodeContinue = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
const decodeContinue = (token: string) => {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  return /^[0-9]+-[0-9]+\//.test(key) ? key : undefined;
};

export function registerNotifications(app: FastifyInstance, redis: Redis, keys: Keys): void {
  const store = new NotificationStore(redis, keys.prefix);
  resource(app, '/api/notifications', {
    GET: {
      schema: {
        summary: 'Deliveries of notifications, newest first (e.g. ?status=failed)',
        tags: ['notifications'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: [...DELIVERY_STATUSES] },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            continue: { type: 'string', description: 'Token from the previous page' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['NotificationList'] },
              metadata: {
                type: 'object',
                properties: { selfLink: { type: 'string' }, continue: { type: 'string' } },
              },
              items: { type: 'array', items: NotificationSchema },
            },
          },
          ...errorResponses(400, 503),
        },
      },
      handler: async (request) => {
        const query = request.query as {
          status?: DeliveryStatus;
          limit: number;
          continue?: string;
        };
        const after = query.continue === undefined ? undefined : decodeContinue(query.continue);
        if (query.continue !== undefined && after === undefined)
          throw new HttpError(400, 'continue: not a token returned by this API');
        const page = await store.list(query.limit, {
          ...(query.status && { status: query.status }),
          ...(after !== undefined && { after }),
        });
        return {
          kind: 'NotificationList',
          metadata: {
            selfLink: '/api/notifications',
            ...(page.next !== undefined && { continue: encodeContinue(page.next) }),
          },
          items: page.records.map(notificationView),
        };
      },
    },
  });
}
