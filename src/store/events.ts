/** The event stream: every run and job transition, read by SSE clients and notif. */
import type { Redis } from 'ioredis';
import type { JobStatus, RunStatus } from '../core/types.ts';
import type { Keys } from './keys.ts';

export interface ChainrEvent {
  /** The stream entry id, usable as an SSE `id` to resume from. */
  id: string;
  uid: string;
  /** Absent for a run's own transitions. */
  job?: string;
  status: RunStatus | JobStatus;
  reason?: string;
  /** ms since epoch */
  time: number;
}

type StreamEntries = [id: string, fields: string[]][];

function toEvent([id, fields]: [string, string[]]): ChainrEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
  return {
    id,
    uid: f.uid ?? '',
    ...(f.job !== undefined && { job: f.job }),
    status: (f.status ?? 'PENDING') as ChainrEvent['status'],
    ...(f.reason !== undefined && { reason: f.reason }),
    time: Number(f.time),
  };
}

/**
 * Fans the event stream out to in-process listeners from one blocking reader, so that any
 * number of SSE clients costs one Redis connection.
 *
 * The reader sleeps while nobody listens (no read, no wake-up per event). The first listener
 * wakes it: it fixes its position at the newest event, and `subscribe` resolves only then, so a
 * route that reads its snapshot after `subscribe` resolved is handed no event older than the
 * position its snapshot already shows (at most the few of a read in flight when a listener joins
 * a reader that is awake, which the snapshot shows too). Once the last listener has left, the
 * reader ends after its current read.
 */
export class EventHub {
  private readonly listeners = new Set<(e: ChainrEvent) => void>();
  private accepting = false;
  /** Resolves once the awake reader's position is fixed; undefined while it sleeps. */
  private awake: Promise<void> | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly blocking: Redis,
    private readonly keys: Keys,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Adds a listener and resolves, with its unsubscribe function, once the reader's position is
   * fixed: the listener gets every event written after that. Rejects (the listener removed) when
   * the position cannot be read or the hub is stopped.
   */
  async subscribe(listener: (e: ChainrEvent) => void): Promise<() => void> {
    if (!this.accepting) throw new Error('the event hub is stopped');
    this.listeners.add(listener);
    const unsubscribe = () => void this.listeners.delete(listener);
    try {
      await (this.awake ??= this.wake());
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  /**
   * Whether the event `id` is still in the stream: when it is, every event after it is too (the
   * stream is trimmed from its oldest end), and a client resuming after it misses nothing.
   */
  async holds(redis: Redis, id: string): Promise<boolean> {
    return (await redis.xrange(this.keys.events, id, id)).length > 0;
  }

  /** The events after `afterId`, a page at a time (for clients resuming with Last-Event-ID). */
  async *since(redis: Redis, afterId: string, pageSize = 500): AsyncGenerator<ChainrEvent[]> {
    for (let after = afterId; ;) {
      const entries = (await redis.xrange(
        this.keys.events,
        `(${after}`,
        '+',
        'COUNT',
        pageSize,
      )) as StreamEntries;
      if (entries.length > 0) yield entries.map(toEvent);
      const last = entries[entries.length - 1];
      if (!last || entries.length < pageSize) return;
      after = last[0];
    }
  }

  /** Lets listeners wake the reader, until `stop`. */
  start(): void {
    this.accepting = true;
  }

  async stop(): Promise<void> {
    this.accepting = false;
    this.blocking.disconnect();
    await this.loop;
  }

  /** Starts the reader after the newest event that exists now; resolves when that is known. */
  private wake(): Promise<void> {
    const position = this.blocking
      .xrevrange(this.keys.events, '+', '-', 'COUNT', 1)
      .then((newest) => newest[0]?.[0] ?? '0-0');
    this.loop = position.then(
      (last) => this.read(last),
      () => {
        this.awake = undefined; // the next listener tries again
      },
    );
    return position.then(() => undefined);
  }

  private async read(from: string): Promise<void> {
    // Each read continues from the last entry seen. (Reading with `$` each time would lose the
    // events written between one read's end and the next read's start.)
    let last = from;
    while (this.accepting && this.listeners.size > 0) {
      try {
        const reply = await this.blocking.xread(
          'COUNT',
          1000,
          'BLOCK',
          5000,
          'STREAMS',
          this.keys.events,
          last,
        );
        const entries = reply?.[0]?.[1] ?? [];
        last = entries[entries.length - 1]?.[0] ?? last;
        for (const entry of entries) {
          const event = toEvent(entry);
          for (const listener of this.listeners) listener(event);
        }
      } catch (err) {
        if (!this.accepting) break;
        this.onError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // Asleep: whoever listens next fixes a new position (no command is in flight any more).
    this.awake = undefined;
  }
}
