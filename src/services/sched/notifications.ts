/** The notifications resource: delivery records of the notif service (GET /api/notifications). */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { CorruptRecordReporter } from '../../store/corrupt.ts';
import type { Keys } from '../../store/keys.ts';
import {
  NotificationListSchema,
  type MediumType,
  type Notification,
  type NotificationList,
} from '../../api/wire.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../core/types.ts';
import { NotificationStore, type DeliveryRecord } from '../../store/notifications.ts';
import { HttpError, resource } from '../../http/errors.ts';
import { answer, errorResponses } from './schemas.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function notificationView(r: DeliveryRecord): Notification {
  return {
    kind: 'Notification',
    metadata: { uid: r.key, creationTimestamp: iso(r.createdAt) },
    event: r.event,
    eventId: r.eventId,
    run: { uid: r.uid, name: r.pipeline, selfLink: `/api/runs/${r.uid}` },
    job: r.job,
    rule: r.rule,
    medium: r.medium,
    mediumType: r.mediumType as MediumType,
    inline: r.inline,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    nextAttemptAt: iso(r.nextAttemptAt),
  };
}

/** base64url of the last key of a page: opaque to clients. */
const encodeContinue = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
const decodeContinue = (token: string) => {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  return /^[0-9]+-[0-9]+\//.test(key) ? key : undefined;
};

export function registerNotifications(
  app: FastifyInstance,
  redis: Redis,
  keys: Keys,
  reportCorrupt: CorruptRecordReporter,
): void {
  const store = new NotificationStore(redis, keys.prefix, undefined, reportCorrupt);
  resource(app, '/api/notifications', {
    GET: {
      schema: {
        operationId: 'listNotifications',
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
          200: answer(NotificationListSchema, 'A page of deliveries'),
          ...errorResponses(400, 503),
        },
      },
      handler: async (request): Promise<NotificationList> => {
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
