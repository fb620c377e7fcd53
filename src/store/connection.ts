import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config.ts';

function hostPort(addr: string): { host: string; port: number } {
  const at = addr.lastIndexOf(':');
  if (at < 0) return { host: addr, port: 6379 };
  return { host: addr.slice(0, at), port: Number(addr.slice(at + 1)) };
}

/**
 * A new Redis connection. Commands wait through outages (reconnecting with backoff) instead of
 * failing at once, except where `failFast` asks to answer quickly (the HTTP API).
 */
export function connect(config: RedisConfig, options: { failFast?: boolean } = {}): Redis {
  const common: RedisOptions = {
    ...(config.password !== undefined && { password: config.password }),
    ...(config.db !== undefined && { db: config.db }),
    // BullMQ requires null on connections that block; elsewhere a bounded retry surfaces outages.
    maxRetriesPerRequest: options.failFast ? 2 : null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    lazyConnect: false,
  };
  const redis = config.url
    ? new Redis(config.url, common)
    : config.addrs && config.master
      ? new Redis({ ...common, sentinels: config.addrs.map(hostPort), name: config.master })
      : new Redis({ ...common, ...hostPort(config.addr ?? '127.0.0.1:6379') });
  // Without a listener, ioredis prints a stack trace for every failed reconnect attempt of an
  // outage. Each service logs the failures of its own operations (requests, cycles, workers).
  redis.on('error', () => undefined);
  return redis;
}
