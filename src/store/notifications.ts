/**
 * Delivery records of the notif service: one per (event, rule, medium), keyed by its idempotency
 * key `<event id>/<rule>/<medium>`, so that event ids order them in time.
 *
 * - `notif:deliveries`           hash: key → the record as JSON
 * - `notif:index`                sorted set of every key, all scored 0 (lexicographic = time)
 * - `notif:index:<status>`       the same, for the records in that status
 *
 * Capped: past `maxRecords`, the oldest records are dropped.
 */
import type { Redis } from 'ioredis';
import {
  DELIVERY_STATUSES,
  NOTIFICATION_EVENTS,
  type DeliveryStatus,
  type NotificationEvent,
} from '../core/types.ts';
import {
  CorruptRecordError,
  isObject,
  isTime,
  parseJson,
  skipCorrupt,
  type CorruptRecordReporter,
} from './corrupt.ts';

export interface DeliveryRecord {
  key: string;
  eventId: string;
  event: NotificationEvent;
  uid: string;
  job?: string;
  /** The pipeline's name. */
  pipeline?: string;
  /** `0`, `1`, ... for the pipeline's rules; `d0`, ... for the deployment's. */
  rule: string;
  /** The medium's name (`webhook` / `email` for one defined in the pipeline). */
  medium: string;
  mediumType: string;
  inline: boolean;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** Why the last attempt failed (never holding a secret). */
  lastError?: string;
  createdAt: number;
  updatedAt: number;
  /** When the next attempt is due, while retrying. */
  nextAttemptAt?: number;
}

const optional = (v: unknown, is: (x: unknown) => boolean) => v === undefined || is(v);
const isString = (v: unknown) => typeof v === 'string';

/** A delivery record read back; CorruptRecordError when it is not one notif writes. */
export function parseDeliveryRecord(key: string, json: string): DeliveryRecord {
  const r = parseJson('delivery', key, 'record', json);
  const valid =
    isObject(r) &&
    ['key', 'eventId', 'uid', 'rule', 'medium', 'mediumType'].every((f) => isString(r[f])) &&
    NOTIFICATION_EVENTS.includes(r.event as NotificationEvent) &&
    DELIVERY_STATUSES.includes(r.status as DeliveryStatus) &&
    typeof r.inline === 'boolean' &&
    Number.isInteger(r.attempts) &&
    isTime(r.createdAt) &&
    isTime(r.updatedAt) &&
    optional(r.nextAttemptAt, isTime) &&
    ['job', 'pipeline', 'lastError'].every((f) => optional(r[f], isString));
  if (!valid) throw new CorruptRecordError('delivery', key, 'not a delivery record');
  return r as unknown as DeliveryRecord;
}

export function notificationKeys(prefix: string) {
  return {
    records: `${prefix}notif:deliveries`,
    index: `${prefix}notif:index`,
    byStatus: (status: DeliveryStatus) => `${prefix}notif:index:${status}`,
  };
}

/** Drops the oldest records past ARGV[1]. KEYS: records hash, index, then each status index. */
const TRIM = `
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
for _, key in ipairs(old) do
  redis.call('HDEL', KEYS[1], key)
  for i = 3, #KEYS do redis.call('ZREM', KEYS[i], key) end
end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
return excess`;

export class NotificationStore {
  private readonly keys: ReturnType<typeof notificationKeys>;
  private saves = 0;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly maxRecords = 10_000,
    /** Told of each record a list leaves out because it cannot be read. */
    private readonly reportCorrupt?: CorruptRecordReporter,
  ) {
    this.keys = notificationKeys(prefix);
  }

  async get(key: string): Promise<DeliveryRecord | undefined> {
    const json = await this.redis.hget(this.keys.records, key);
    return json === null ? undefined : (JSON.parse(json) as DeliveryRecord);
  }

  /** Writes a record and moves it to its status's index, in one step. */
  async save(record: DeliveryRecord): Promise<void> {
    const multi = this.redis
      .multi()
      .hset(this.keys.records, record.key, JSON.stringify(record))
      .zadd(this.keys.index, 0, record.key);
    for (const status of DELIVERY_STATUSES) {
      if (status === record.status) multi.zadd(this.keys.byStatus(status), 0, record.key);
      else multi.zrem(this.keys.byStatus(status), record.key);
    }
    await multi.exec();
    // Trimming costs a ZCARD: do it once every hundred writes, the cap is approximate anyway.
    if (++this.saves % 100 === 1) await this.trim();
  }

  async trim(): Promise<number> {
    const statusKeys = DELIVERY_STATUSES.map((s) => this.keys.byStatus(s));
    const keys = [this.keys.records, this.keys.index, ...statusKeys];
    return Number(await this.redis.eval(TRIM, keys.length, ...keys, this.maxRecords));
  }

  /**
   * One page of records, newest first. `after` is the previous page's cursor; `next` is the
   * following page's, absent on the last page.
   */
  async list(
    limit: number,
    options: { status?: DeliveryStatus; after?: string } = {},
  ): Promise<{ records: DeliveryRecord[]; next?: string }> {
    const index = options.status ? this.keys.byStatus(options.status) : this.keys.index;
    const start = options.after === undefined ? '+' : `(${options.after}`;
    const keys = await this.redis.zrange(index, start, '-', 'BYLEX', 'REV', 'LIMIT', 0, limit + 1);
    const page = keys.slice(0, limit);
    if (page.length === 0) return { records: [] };
    const values = await this.redis.hmget(this.keys.records, ...page);
    const records = values.flatMap((v, i) => {
      const record =
        v === null
          ? undefined
          : skipCorrupt(() => parseDeliveryRecord(page[i] as string, v), this.reportCorrupt);
      return record === undefined ? [] : [record];
    });
    return { records, ...(keys.length > limit && { next: page[page.length - 1] }) };
  }
}
