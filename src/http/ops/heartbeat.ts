/** A service instance's registration in Redis, renewed every interval until it stops. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import packageJson from '../../../package.json' with { type: 'json' };
import { InstanceStore, type InstanceRecord } from '../../store/instances.ts';
import type { Keys } from '../../store/keys.ts';

/** Beats an instance may miss before it counts as gone. */
const MISSED_BEATS = 3;

export interface HeartbeatOptions {
  redis: Redis;
  keys: Keys;
  service: string;
  intervalMs: number;
  logger: Logger;
  /** work: what it serves, and its queue workers' ids (InstanceRecord). */
  executors?: string[];
  concurrency?: number;
  queueWorkers?: string[];
  /** work: the queue entries it is processing now, published on every beat. */
  holds?: () => string[];
}

export interface Heartbeat {
  id: string;
  /** How long the registration lives after a beat: the instance counts as gone after it. */
  ttlMs: number;
  /** Resolves at the first beat that reached Redis. */
  registered: Promise<void>;
  /**
   * How long the beats have been reaching Redis without a lapse since the last one (Infinity
   * if none; 0 while they fail or are overdue): once it is longer than a TTL, every live instance
   * has renewed its registration since this one last lost touch, so an instance whose
   * registration is missing is gone.
   */
  steadyForMs(): number;
  /** Deregisters at once (a clean shutdown), rather than when the TTL runs out. */
  stop(): Promise<void>;
}

export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const store = new InstanceStore(options.redis, options.keys);
  const host = hostname();
  const record: InstanceRecord = {
    service: options.service,
    id: `${host}-${process.pid}-${randomBytes(3).toString('hex')}`,
    host,
    pid: process.pid,
    startedAt: Date.now(),
    lastSeen: Date.now(),
    version: packageJson.version,
    ...(options.executors && { executors: options.executors }),
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    ...(options.queueWorkers && { queueWorkers: options.queueWorkers }),
  };
  const ttlMs = options.intervalMs * MISSED_BEATS;
  let failing = false;
  let registered: () => void = () => undefined;
  /** The first beat of the current run of beats that each came within a TTL of the last. */
  let steadySince: number | undefined = -Infinity;
  let lastBeat = Date.now();
  const beat = () => {
    const sentAt = Date.now();
    return store.beat({ ...record, lastSeen: sentAt }, ttlMs, options.holds?.()).then(
      () => {
        if (failing) options.logger.info({ instance: record.id }, 'heartbeat restored');
        failing = false;
        // After a lapse (a failed beat, a pause), this instance may have counted as gone
        // meanwhile, and others with it (a Redis outage); a first beat that succeeds is no lapse.
        if (steadySince === undefined || sentAt - lastBeat >= ttlMs) steadySince = sentAt;
        lastBeat = sentAt;
        registered();
      },
      (err: unknown) => {
        // Logged once per outage: the next beat retries.
        if (!failing) options.logger.warn({ err, instance: record.id }, 'heartbeat failed');
        failing = true;
        steadySince = undefined;
      },
    );
  };
  const firstBeat = new Promise<void>((done) => {
    registered = done;
  });
  let current = beat();
  const timer = setInterval(() => {
    current = current.then(beat);
  }, options.intervalMs);
  return {
    id: record.id,
    ttlMs,
    registered: firstBeat,
    steadyForMs: () => {
      const now = Date.now();
      // A beat overdue by a TTL (this process paused) counts as a lapse already.
      return steadySince === undefined || now - lastBeat >= ttlMs ? 0 : now - steadySince;
    },
    async stop() {
      clearInterval(timer);
      await current;
      await store
        .remove(record.id)
        .catch((err: unknown) =>
          options.logger.warn({ err, instance: record.id }, 'deregistration failed'),
        );
    },
  };
}
