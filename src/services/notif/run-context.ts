/** What notif needs of a run, read from its hashes: name, labels, notification rules, failed jobs. */
import type { Redis } from 'ioredis';
import type { NotificationRule } from '../../core/types.ts';
import type { Keys } from '../../store/keys.ts';
import type { RunContext } from './notification.ts';
import { rulesOf } from './rules.ts';

export interface RunInfo extends RunContext {
  rules: NotificationRule[];
}

function parse(json: string | null | undefined): unknown {
  if (json === null || json === undefined) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

/** Reads runs, caching what never changes in a run's life (its pipeline is parsed once). */
export class RunContexts {
  private readonly cache = new Map<string, RunInfo>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly capacity = 1000,
  ) {}

  async get(uid: string, withFailedJobs: boolean): Promise<RunInfo> {
    const key = this.keys.run(uid);
    let info = this.cache.get(uid);
    if (!info) {
      const [[name, labels], pipeline] = await Promise.all([
        this.redis.hmget(key, 'name', 'labels'),
        this.redis.hget(this.keys.runSpec(uid), 'pipeline'),
      ]);
      const parsedLabels = parse(labels);
      info = {
        ...(typeof name === 'string' && { name }),
        labels:
          typeof parsedLabels === 'object' && parsedLabels !== null
            ? (parsedLabels as Record<string, string>)
            : {},
        rules: rulesOf(parse(pipeline)),
      };
      if (typeof pipeline === 'string') {
        this.cache.set(uid, info);
        if (this.cache.size > this.capacity)
          this.cache.delete(this.cache.keys().next().value as string);
      }
    }
    if (!withFailedJobs) return info;
    const failed = ((await this.redis.hget(key, 'failedJobs')) ?? '').split(',').filter(Boolean);
    const reasons =
      failed.length > 0 ? await this.redis.hmget(key, ...failed.map((j) => `${j}.reason`)) : [];
    return {
      ...info,
      failedJobs: failed.map((name, i) => {
        const reason = reasons[i];
        return { name, ...(reason !== null && reason !== undefined && { reason }) };
      }),
    };
  }

  /** Forgets a run that ended (a retried run is read again). */
  forget(uid: string): void {
    this.cache.delete(uid);
  }
}
