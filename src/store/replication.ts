/**
 * Acknowledging writes only once they are on replicas: Redis replicates asynchronously, so a
 * write the master answered can be gone after a failover. `WAIT n timeout` answers when `n`
 * replicas have received every write this connection sent before it (or at the timeout, with how
 * many had).
 */
import type { Redis } from 'ioredis';

/** How many replicas must hold a new run before the API acknowledges it, and for how long to wait. */
export interface ReplicaConfirmation {
  /** 0: acknowledge on the master's answer alone (a single Redis). */
  replicas: number;
  timeoutMs: number;
}

export class NotReplicatedError extends Error {
  constructor(
    readonly uid: string,
    readonly confirmed: number,
    readonly wanted: number,
    timeoutMs: number,
  ) {
    super(
      `run ${uid} was written to the Redis master but ${confirmed} of the ${wanted} replica(s) ` +
        `required confirmed it within ${timeoutMs} ms, so it is not acknowledged: a failover now ` +
        `could lose it. It may still run (GET /api/runs/${uid} tells); try again shortly`,
    );
  }
}

/**
 * Confirms that writes are on the replicas, one WAIT for every caller of the same turn of the
 * event loop: WAIT covers all the connection sent before it, so callers whose writes have been
 * answered share the WAIT the first of them sends (a group commit).
 */
export class ReplicaConfirmer {
  private shared: Promise<number> | undefined;

  constructor(
    private readonly redis: Redis,
    readonly settings: ReplicaConfirmation,
  ) {}

  /**
   * Resolves once the writes of `uid` on this connection are on the required replicas; call it
   * only after those writes were answered. Throws NotReplicatedError at the timeout.
   */
  async confirm(uid: string): Promise<void> {
    const { replicas, timeoutMs } = this.settings;
    if (replicas === 0) return;
    if (!this.shared) {
      this.shared = this.redis.wait(replicas, timeoutMs);
      process.nextTick(() => {
        this.shared = undefined;
      });
    }
    const confirmed = await this.shared;
    if (confirmed < replicas) throw new NotReplicatedError(uid, confirmed, replicas, timeoutMs);
  }
}
