/**
 * notif: reads the event stream through a consumer group and delivers notifications by the
 * pipelines' and the deployment's rules (see docs/NOTIFICATIONS.md). Any number of replicas
 * share the work; each event is delivered once in the normal case, at least once always.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../../store/keys.ts';
import { NotificationStore } from '../../store/notifications.ts';
import { StreamConsumer } from './consumer.ts';
import { Deliverer } from './deliver.ts';
import { EventHandler } from './handler.ts';
import { MediaRegistry } from './media/registry.ts';
import { Retries } from './retries.ts';
import { RunContexts } from './run-context.ts';
import type { NotifySettings } from './settings.ts';

/** The consumer group every notif replica joins. */
export const NOTIF_GROUP = 'notif';

export interface NotifOptions {
  /** Opens a new Redis connection (notif uses three: commands, blocking reads, retry worker). */
  connect: () => Redis;
  keys: Keys;
  settings: NotifySettings;
  /** Where users reach the UI, for links to runs. */
  publicUrl: string;
  logger: Logger;
  /** This replica's name in the consumer group (default: host, pid and a random suffix). */
  consumer?: string;
  /** Longest wait of one stream read (ms). */
  blockMs?: number;
}

export interface NotifService {
  consumer: string;
  close(): Promise<void>;
}

export async function startNotif(options: NotifOptions): Promise<NotifService> {
  const { keys, settings, logger } = options;
  const consumer =
    options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const commands = options.connect();
  const blocking = options.connect();
  const workerConnection = options.connect();
  const store = new NotificationStore(commands, keys.prefix, settings.maxRecords);
  const media = new MediaRegistry(settings, logger);
  const deliverer = new Deliverer(media, store, settings.secrets);
  const retries = new Retries(
    { connection: commands, workerConnection, prefix: keys.bullPrefix, concurrency: 16 },
    deliverer,
    settings.retry,
    logger,
  );
  const handler = new EventHandler(
    new RunContexts(commands, keys),
    settings,
    deliverer,
    retries,
    options.publicUrl,
    logger,
  );
  const stream = new StreamConsumer({
    redis: commands,
    blocking,
    stream: keys.events,
    group: NOTIF_GROUP,
    consumer,
    claimIdleMs: settings.claimIdleMs,
    claimIntervalMs: settings.claimIntervalMs,
    blockMs: options.blockMs ?? 5000,
    maxInFlight: 256,
    handle: (event) => handler.handle(event),
    logger,
  });
  try {
    await stream.start();
  } catch (err) {
    await retries.close();
    for (const c of [blocking, workerConnection, commands]) c.disconnect();
    throw err;
  }
  logger.info(
    {
      consumer,
      media: Object.values(settings.media).map((m) => `${m.name} (${m.kind})`),
      rules: settings.rules.length,
    },
    'notif started',
  );
  return {
    consumer,
    async close() {
      await stream.stop();
      await retries.close();
      media.close();
      for (const c of [blocking, workerConnection, commands]) c.disconnect();
    },
  };
}
