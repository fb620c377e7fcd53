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
  /** work: what it serves. */
  executors?: string[];
  concurrency?: number;
}

export interface Heartbeat {
  id: string;
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
  };
  const ttlMs = options.intervalMs * MISSED_BEATS;
  let failing = false;
  const beat = () =>
    store.beat({ ...record, lastSeen: Date.now() }, ttlMs).then(
      () => {
        if (failing) options.logger.info({ instance: record.id }, 'heartbeat restored');
        failing = false;
      },
      (err: unknown) => {
        // Logged once per outage: the next beat retries.
        if (!failing) options.logger.warn({ err, instance: record.id }, 'heartbeat failed');
        failing = true;
      },
    );
  let current = beat();
  const timer = setInterval(() => {
    current = current.then(beat);
  }, options.intervalMs);
  return {
    id: record.id,
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
