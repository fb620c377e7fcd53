/**
 * The event stream read through a Redis consumer group: every event goes to one notif replica,
 * which acknowledges it only after handling it. Events a dead replica left unacknowledged are
 * taken over (XAUTOCLAIM) once idle for `claimIdleMs`, at start and every `claimIntervalMs`.
 * Events of one run are handled in order, different runs in parallel, and reading goes on while
 * they are (up to `maxInFlight` events): a slow receiver delays only the events of its own run.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { parseStreamEntry, type StreamEvent } from './notification.ts';

type Entry = [id: string, fields: string[] | null];

export interface ConsumerOptions {
  /** Commands (XACK, XAUTOCLAIM, ...). */
  redis: Redis;
  /** A connection of its own for the blocking XREADGROUP. */
  blocking: Redis;
  stream: string;
  group: string;
  consumer: string;
  claimIdleMs: number;
  claimIntervalMs: number;
  blockMs: number;
  /** Events being handled at once, at most. */
  maxInFlight: number;
  /** Handles one event; an event whose handling throws stays pending and is taken over later. */
  handle: (event: StreamEvent) => Promise<void>;
  logger: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StreamConsumer {
  private running = false;
  private loop: Promise<void> | undefined;
  /** Ids of the events queued or being handled, so that a claim does not take them twice. */
  private readonly inFlight = new Set<string>();
  /** The last queued handling of each run: the next event of the run waits for it. */
  private readonly chains = new Map<string, Promise<void>>();
  private wake: (() => void) | undefined;

  constructor(private readonly o: ConsumerOptions) {}

  /** Creates the group (reading from now on) when there is none, then starts reading. */
  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.loop = this.run();
  }

  /** Stops reading and waits for the events being handled. */
  async stop(): Promise<void> {
    this.running = false;
    this.o.blocking.disconnect();
    this.wake?.();
    await this.loop;
    await Promise.all(this.chains.values());
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.o.redis.xgroup('CREATE', this.o.stream, this.o.group, '$', 'MKSTREAM');
    } catch (err) {
      if (!String(err).includes('BUSYGROUP')) throw err;
    }
  }

  private async run(): Promise<void> {
    const { o } = this;
    let nextClaim = 0;
    while (this.running) {
      try {
        while (this.inFlight.size >= o.maxInFlight && this.running)
          await new Promise<void>((resolve) => (this.wake = resolve));
        if (!this.running) return;
        if (Date.now() >= nextClaim) {
          await this.claim();
          nextClaim = Date.now() + o.claimIntervalMs;
        }
        const block = Math.max(1, Math.min(o.blockMs, nextClaim - Date.now()));
        const count = Math.max(1, o.maxInFlight - this.inFlight.size);
        const reply = (await o.blocking.xreadgroup(
          'GROUP',
          o.group,
          o.consumer,
          'COUNT',
          count,
          'BLOCK',
          block,
          'STREAMS',
          o.stream,
          '>',
        )) as [string, Entry[]][] | null;
        for (const [id, fields] of reply?.[0]?.[1] ?? [])
          if (fields !== null) this.enqueue(parseStreamEntry(id, fields));
      } catch (err) {
        if (!this.running) return;
        if (String(err).includes('NOGROUP')) await this.ensureGroup().catch(() => undefined);
        o.logger.warn({ err }, 'reading the event stream failed; retrying');
        await sleep(500);
      }
    }
  }

  /** Takes over the events left unacknowledged for claimIdleMs (by a dead replica, or by this one after an error). */
  private async claim(): Promise<void> {
    const { o } = this;
    let cursor = '0-0';
    for (let round = 0; round < 100 && this.running; round++) {
      const [next, entries, deleted] = (await o.redis.xautoclaim(
        o.stream,
        o.group,
        o.consumer,
        o.claimIdleMs,
        cursor,
        'COUNT',
        100,
      )) as [string, Entry[], string[]?];
      // Trimmed from the stream while pending: nothing is left to deliver.
      const gone = [...(deleted ?? []), ...entries.filter(([, f]) => f === null).map(([id]) => id)];
      if (gone.length > 0) await o.redis.xack(o.stream, o.group, ...gone);
      const live = entries.filter(([id, f]) => f !== null && !this.inFlight.has(id));
      if (live.length > 0)
        o.logger.info({ count: live.length }, 'taking over events left unacknowledged');
      for (const [id, fields] of live) this.enqueue(parseStreamEntry(id, fields as string[]));
      if (next === '0-0') break;
      cursor = next;
    }
    await this.forgetDeadConsumers();
  }

  /**
   * Removes from the group the consumers (replicas that stopped; each start joins under a new
   * name) with nothing pending and silent for an hour, or ten claim periods if that is longer.
   */
  private async forgetDeadConsumers(): Promise<void> {
    const { o } = this;
    const silentMs = Math.max(3_600_000, 10 * o.claimIdleMs);
    const consumers = (await o.redis.xinfo('CONSUMERS', o.stream, o.group)) as unknown[][];
    for (const flat of consumers) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
      const name = String(info.name);
      if (name !== o.consumer && Number(info.pending) === 0 && Number(info.idle) > silentMs)
        await o.redis.xgroup('DELCONSUMER', o.stream, o.group, name);
    }
  }

  /** Queues an event behind the earlier events of its run. */
  private enqueue(event: StreamEvent): void {
    this.inFlight.add(event.id);
    const previous = this.chains.get(event.uid) ?? Promise.resolve();
    const handled = previous.then(() => this.one(event));
    this.chains.set(event.uid, handled);
    void handled.then(() => {
      this.inFlight.delete(event.id);
      if (this.chains.get(event.uid) === handled) this.chains.delete(event.uid);
      this.wake?.();
      this.wake = undefined;
    });
  }

  /** Handles one event and acknowledges it; never rejects. */
  private async one(event: StreamEvent): Promise<void> {
    try {
      await this.o.handle(event);
      await this.o.redis.xack(this.o.stream, this.o.group, event.id);
    } catch (err) {
      this.o.logger.error(
        { err, id: event.id },
        'handling an event failed; it will be taken over again',
      );
    }
  }
}
