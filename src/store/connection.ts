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
  return coalesceWrites(redis);
}

/**
 * Sends the commands written in one turn of the event loop in one socket write, on this
 * connection and every socket it reconnects with. Each write is a system call and, for Redis, a
 * wake-up; a process with many jobs in flight writes many commands at once (replies that arrive
 * together resume many waiting operations). The socket is corked at a turn's first write and
 * uncorked on process.nextTick: from a promise continuation, once the microtask queue is empty;
 * from a callback, before its continuations run (RunStore.create sends from a continuation, so
 * that BullMQ's adds after it share its write). Order is kept, and no command waits for
 * another's reply (unlike ioredis's autopipelining, which holds new commands while a pipeline is
 * in flight).
 */
export function coalesceWrites(redis: Redis): Redis {
  redis.on('connect', () => {
    const socket = redis.stream;
    const write = socket.write.bind(socket);
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    socket.write = ((...args: Parameters<typeof write>) => {
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      return write(...args);
    }) as typeof socket.write;
  });
  return redis;
}
