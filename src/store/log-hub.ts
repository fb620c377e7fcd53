/**
 * Followed job logs, fanned out from one blocking reader: any number of followers, of any number
 * of jobs, cost one Redis connection (as EventHub does for the event stream), where each follower
 * held its own before.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import { toLines, type LogLine } from './logs.ts';

/** How long one read waits for new lines: a job followed anew joins the reads after it. */
const BLOCK_MS = 1000;
const COUNT = 1000;

interface Follower {
  /** The id of the last line it was handed. */
  after: string;
  deliver(lines: LogLine[]): void;
}

/** Stream ids (`<ms>-<seq>`) in order. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

export class LogHub {
  /** Followers by log key. */
  private readonly followed = new Map<string, Set<Follower>>();
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly blocking: Redis,
    private readonly keys: Keys,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** How many followers there are (metrics, tests). */
  get size(): number {
    let n = 0;
    for (const set of this.followed.values()) n += set.size;
    return n;
  }

  /**
   * Hands `deliver` every line of the job's log after `after` (exclusive), in order, as they are
   * written, until the returned function is called. Each read covers every followed log from the
   * oldest position a follower of it holds; a follower is handed only lines past its own.
   */
  follow(uid: string, job: string, after: string, deliver: (lines: LogLine[]) => void): () => void {
    if (this.stopped) throw new Error('the log hub is stopped');
    const key = this.keys.log(uid, job);
    const follower: Follower = { after, deliver };
    let set = this.followed.get(key);
    if (!set) this.followed.set(key, (set = new Set()));
    set.add(follower);
    this.loop ??= this.read().finally(() => (this.loop = undefined));
    return () => {
      set.delete(follower);
      if (set.size === 0 && this.followed.get(key) === set) this.followed.delete(key);
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.blocking.disconnect();
    await this.loop;
  }

  private async read(): Promise<void> {
    while (!this.stopped && this.followed.size > 0) {
      const keys = [...this.followed.keys()];
      const from = keys.map((key) => {
        let oldest: string | undefined;
        for (const f of this.followed.get(key) ?? [])
          if (oldest === undefined || compareIds(f.after, oldest) < 0) oldest = f.after;
        return oldest ?? '0-0';
      });
      try {
        const reply = await this.blocking.xread(
          'COUNT',
          COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...keys,
          ...from,
        );
        for (const [key, entries] of reply ?? []) {
          const lines = toLines(entries);
          for (const follower of this.followed.get(key) ?? []) {
            const fresh = lines.filter((l) => compareIds(l.id, follower.after) > 0);
            const last = fresh[fresh.length - 1];
            if (!last) continue;
            follower.after = last.id;
            follower.deliver(fresh);
          }
        }
      } catch (err) {
        if (this.stopped) break;
        // Redis restarting or failing over: the followers wait for it and go on from their
        // positions, as the event streams do.
        this.onError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
