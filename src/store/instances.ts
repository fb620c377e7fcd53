/**
 * Live service instances: each one renews its own key (`instance:<id>`, with a TTL) on every
 * heartbeat, so an instance that dies without deregistering disappears when the TTL runs out.
 * The `instances` sorted set indexes the ids, scored by expiry, so that listing needs no SCAN;
 * the keys themselves are the truth (an index entry whose key expired is not live).
 */
import type { Redis } from 'ioredis';
import {
  CorruptRecordError,
  isObject,
  isTime,
  parseJson,
  skipCorrupt,
  type CorruptRecordReporter,
} from './corrupt.ts';
import type { Keys } from './keys.ts';

export interface InstanceRecord {
  service: string;
  /** hostname, pid and a random suffix: unique even for several services in one process. */
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  lastSeen: number;
  version: string;
  /** work: the executors whose queues it takes jobs from, and jobs it runs at once per executor. */
  executors?: string[];
  concurrency?: number;
  /**
   * work: the ids of its BullMQ workers, one per queue; a lock on a queue entry is held by the
   * BullMQ worker whose id starts its token (`<worker id>:<n>`), so that an entry locked by
   * none of the live instances' workers belongs to a dead one.
   */
  queueWorkers?: string[];
}

/** An instance read back; CorruptRecordError when it is not one a heartbeat writes. */
function parseInstance(id: string, json: string): InstanceRecord {
  const r = parseJson('instance', id, 'record', json);
  const valid =
    isObject(r) &&
    ['service', 'id', 'host', 'version'].every((f) => typeof r[f] === 'string') &&
    Number.isInteger(r.pid) &&
    isTime(r.startedAt) &&
    isTime(r.lastSeen) &&
    (r.executors === undefined ||
      (Array.isArray(r.executors) && r.executors.every((e) => typeof e === 'string'))) &&
    (r.concurrency === undefined || Number.isInteger(r.concurrency));
  if (!valid) throw new CorruptRecordError('instance', id, 'not an instance record');
  return r as unknown as InstanceRecord;
}

export class InstanceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** Told of each instance the list leaves out because its record cannot be read. */
    private readonly reportCorrupt?: CorruptRecordReporter,
  ) {}

  /**
   * Registers or renews an instance for ttlMs from its lastSeen; `holds` (work): the queue
   * entries it is processing, published with the same lifetime (`instance:<id>:holds`).
   */
  async beat(record: InstanceRecord, ttlMs: number, holds?: string[]): Promise<void> {
    const beat = this.redis.multi();
    if (holds) {
      const key = this.keys.instanceHolds(record.id);
      beat.del(key);
      if (holds.length > 0) beat.sadd(key, ...holds).pexpire(key, ttlMs);
    }
    await beat
      .set(this.keys.instance(record.id), JSON.stringify(record), 'PX', ttlMs)
      .zadd(this.keys.instances, record.lastSeen + ttlMs, record.id)
      // Index entries of instances gone for a whole TTL more (the margin absorbs clock skew
      // between hosts: the key's own expiry decides liveness, not this score).
      .zremrangebyscore(this.keys.instances, '-inf', `(${record.lastSeen - ttlMs}`)
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.instance(id), this.keys.instanceHolds(id))
      .zrem(this.keys.instances, id)
      .exec();
  }

  /** Every live instance, oldest first. */
  async live(): Promise<InstanceRecord[]> {
    const ids = await this.redis.zrange(this.keys.instances, 0, -1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.keys.instance(id)));
    return values
      .flatMap((v, i) => {
        const id = ids[i] as string;
        const record =
          v === null ? undefined : skipCorrupt(() => parseInstance(id, v), this.reportCorrupt);
        return record === undefined ? [] : [record];
      })
      .sort((a, b) => a.startedAt - b.startedAt);
  }
}
