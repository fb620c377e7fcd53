/**
 * Waiting for chainr's runs to end, from outside: by counting the runs in the per-status indexes
 * (`runs:status:<S>`, kept by the transitions), as a client polling "how many runs ended" would.
 * One round trip per poll, whatever the number of runs: reading every event instead cost this
 * process about as much CPU per job as a worker's transitions, on the same two cores.
 */
import type { Redis } from 'ioredis';

/**
 * How often the counts are read near the end, the error it adds to a batch's wall time at most;
 * and before, while more than NEAR_END runs are left (about 50 ms of runs here), less often, so
 * that watching does not take CPU from the runs watched.
 */
const POLL_MS = 1;
const EARLY_POLL_MS = 10;
const NEAR_END = 20;

export class RunEnds {
  constructor(
    readonly connection: Redis,
    /** The indexes' key prefix (keys.ts: statusIndexPrefix). */
    private readonly statusIndexPrefix: string,
  ) {}

  private async counts(): Promise<{ successful: number; failed: number }> {
    const replies = await this.connection
      .pipeline()
      .zcard(`${this.statusIndexPrefix}SUCCESSFUL`)
      .zcard(`${this.statusIndexPrefix}FAILED`)
      .zcard(`${this.statusIndexPrefix}CANCELED`)
      .exec();
    const [successful, failed, canceled] = (replies ?? []).map(([, n]) => Number(n));
    return { successful: successful ?? 0, failed: (failed ?? 0) + (canceled ?? 0) };
  }

  /** Notes the counts now; `wait(n)` resolves (with performance.now()) once n more runs succeeded. */
  async mark(): Promise<(n: number, timeoutMs?: number) => Promise<number>> {
    const before = await this.counts();
    return async (n, timeoutMs = 300_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await this.counts();
        if (now.failed > before.failed)
          throw new Error(`${now.failed - before.failed} runs ended FAILED or CANCELED`);
        if (now.successful - before.successful >= n) return performance.now();
        if (Date.now() > deadline)
          throw new Error(
            `${now.successful - before.successful} of ${n} runs ended in ${timeoutMs} ms`,
          );
        const left = n - (now.successful - before.successful);
        await new Promise((r) => setTimeout(r, left > NEAR_END ? EARLY_POLL_MS : POLL_MS));
      }
    };
  }
}
