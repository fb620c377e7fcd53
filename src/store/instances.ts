/**
 * Live service instances: each one renews its own key (`instance:<id>`, with a TTL) on every
 * heartbeat, so an instance that dies without deregistering disappears when the TTL runs out.
 * The `instances` sorted set indexes the ids, scored by expiry, so that listing needs no SCAN;
 * the keys themselves are the truth (an index entry whose key expired is not live).
 */
import type { Redis } from 'ioredis';
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
}

export class InstanceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Registers or renews an instance for ttlMs from its lastSeen. */
  async beat(record: InstanceRecord, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.instance(record.id), JSON.stringify(record), 'PX', ttlMs)
      .zadd(this.keys.instances, record.lastSeen + ttlMs, record.id)
      // Index entries of instances gone for a whole TTL more (the margin absorbs clock skew
      // between hosts: the key's own expiry decides liveness, not this score).
      .zremrangebyscore(this.keys.instances, '-inf', `(${record.lastSeen - ttlMs}`)
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().del(this.keys.instance(id)).zrem(this.keys.instances, id).exec();
  }

  /** Every live instance, oldest first. */
  async live(): Promise<InstanceRecord[]> {
    const ids = await this.redis.zrange(this.keys.instances, 0, -1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.keys.instance(id)));
    return values
      .filter((v): v is string => v !== null)
      .map((v) => JSON.parse(v) as InstanceRecord)
      .sort((a, b) => a.startedAt - b.startedAt);
  }
}
