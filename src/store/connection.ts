import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config.ts';

function hostPort(addr: string): { host: string; port: number } {
  const at = addr.lastIndexOf(':');
  if (at < 0) return { host: addr, port: 6379 };
  return { host: addr.slice(0, at), port: Number(addr.slice(at + 1)) };
}

/**
 * A new Redis connection. Commands wait through outages (reconnecting with backoff) instead of
 * failing at once, except where `commandTimeoutMs` asks to answer quickly (the HTTP API, the
 * probes): then a command fails after two reconnection attempts (Redis down), or once it has
 * waited `commandTimeoutMs` for its reply (Redis frozen or overloaded: the socket stays open and
 * nothing else would end the wait). The timeout covers commands queued while disconnected too,
 * so the offline queue stays on: commands sent while the connection is first made wait for it.
 */
export function connect(config: RedisConfig, options: { commandTimeoutMs?: number } = {}): Redis {
  const failFast = options.commandTimeoutMs !== undefined;
  const common: RedisOptions = {
    ...(config.password !== undefined && { password: config.password }),
    ...(config.db !== undefined && { db: config.db }),
    // BullMQ requires null on connections that block; elsewhere a bounded retry surfaces outages.
    maxRetriesPerRequest: failFast ? 2 : null,
    ...(failFast && { commandTimeout: options.commandTimeoutMs }),
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

/**
 * Runs a pipeline and answers each command's reply, or throws the first command's error: a
 * pipeline resolves even when its commands failed (Redis down), each reply carrying its own
 * error, and a reply that was not read must not pass for an empty one.
 */
export async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = await pipeline.exec();
  if (replies === null) throw new Error('Connection is closed.'); // EXEC of a discarded MULTI
  const failed = replies.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
  return replies.map(([, reply]) => reply);
}
