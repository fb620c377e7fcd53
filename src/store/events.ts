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
 * The reader stays current even when nobody listens, so that a listener gets every event
 * written after it subscribed and at most the few of a read then in flight, which the snapshot
 * a route reads right after subscribing already shows. A reader that paused while idle, or
 * started with its first listener, would hand a new listener older events or lose newer ones.
 * With nobody listening, it only keeps its position: the events are not parsed.
 */
export class EventHub {
  private readonly listeners = new Set<(e: ChainrEvent) => void>();
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly blocking: Redis,
    private readonly keys: Keys,
    private readonly onError: (err: unknown) => void,
  ) {}

  subscribe(listener: (e: ChainrEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events after `afterId` still in the stream (for clients resuming with Last-Event-ID). */
  async since(redis: Redis, afterId: string, count = 10_000): Promise<ChainrEvent[]> {
    const entries = (await redis.xrange(
      this.keys.events,
      `(${afterId}`,
      '+',
      'COUNT',
      count,
    )) as StreamEntries;
    return entries.map(toEvent);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.read();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.blocking.disconnect();
    await this.loop;
  }

  private async read(): Promise<void> {
    // Start after the newest entry that exists now. (Reading with `$` each time would lose the
    // events written between one read's end and the next read's start.)
    let last = '0-0';
    for (;;) {
      try {
        const newest = await this.blocking.xrevrange(this.keys.events, '+', '-', 'COUNT', 1);
        last = newest[0]?.[0] ?? '0-0';
        break;
      } catch (err) {
        if (!this.running) return;
        this.onError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    while (this.running) {
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
        if (this.listeners.size === 0) continue;
        for (const entry of entries) {
          const event = toEvent(entry);
          for (const listener of this.listeners) listener(event);
        }
      } catch (err) {
        if (!this.running) return;
        this.onError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
