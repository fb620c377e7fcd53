/**
 * Schedules: definitions in a Redis hash, ticks from BullMQ job schedulers (one per schedule,
 * keyed by its id), so a cron never depends on a timer loop of ours.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import type { Pipeline } from '../core/types.ts';
import { SCHEDULE_QUEUE, type Keys } from './keys.ts';

export interface ScheduleRecord {
  id: string;
  name?: string;
  cron: string;
  timezone: string;
  pipeline: Pipeline;
  params: Record<string, string>;
  paused: boolean;
  createdAt: number;
}

export interface TickData {
  scheduleId: string;
}

export class ScheduleStore {
  readonly queue: Queue<TickData>;
  /**
   * The queue's own connection, as the ready queues have (queue.ts): BullMQ defines its scripts
   * on the connection it is given, and ioredis copies every script defined on a connection into
   * each pipeline and MULTI made on it, such as the MULTI that creates a run and a list page's
   * pipeline on the caller's connection.
   */
  private readonly connection: Redis;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    this.connection = redis.duplicate();
    this.queue = new Queue<TickData>(SCHEDULE_QUEUE, {
      connection: this.connection,
      prefix: keys.bullPrefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 } },
    });
  }

  private async arm(s: ScheduleRecord): Promise<void> {
    await this.queue.upsertJobScheduler(
      s.id,
      { pattern: s.cron, tz: s.timezone },
      { name: 'tick', data: { scheduleId: s.id } },
    );
  }

  async create(
    fields: Omit<ScheduleRecord, 'id' | 'paused' | 'createdAt'>,
    now: number,
  ): Promise<ScheduleRecord> {
    const schedule: ScheduleRecord = { ...fields, id: uuidv7(), paused: false, createdAt: now };
    await this.redis.hset(this.keys.schedules, schedule.id, JSON.stringify(schedule));
    await this.arm(schedule);
    return schedule;
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const raw = await this.redis.hget(this.keys.schedules, id);
    return raw === null ? undefined : (JSON.parse(raw) as ScheduleRecord);
  }

  /** Every schedule, newest first (ids are time-ordered). */
  async list(): Promise<ScheduleRecord[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.schedules));
    return all
      .map((raw) => JSON.parse(raw) as ScheduleRecord)
      .sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** When the schedule fires next (ms since epoch), if it is armed. */
  async nextRunAt(id: string): Promise<number | undefined> {
    return (await this.queue.getJobScheduler(id))?.next;
  }

  async setPaused(id: string, paused: boolean): Promise<ScheduleRecord | undefined> {
    const schedule = await this.get(id);
    if (!schedule) return undefined;
    const updated = { ...schedule, paused };
    await this.redis.hset(this.keys.schedules, id, JSON.stringify(updated));
    if (paused) await this.queue.removeJobScheduler(id);
    else await this.arm(updated);
    return updated;
  }

  async delete(id: string): Promise<ScheduleRecord | undefined> {
    const schedule = await this.get(id);
    if (!schedule) return undefined;
    await this.queue.removeJobScheduler(id);
    await this.redis.hdel(this.keys.schedules, id);
    return schedule;
  }

  /**
   * Claims a tick so that it creates at most one run, even if BullMQ delivers it twice (a
   * worker that died while handling it).
   */
  async claimTick(tickId: string): Promise<boolean> {
    return (
      (await this.redis.set(
        `${this.keys.schedules}:tick:${tickId}`,
        '1',
        'EX',
        7 * 24 * 3600,
        'NX',
      )) === 'OK'
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
  }
}
