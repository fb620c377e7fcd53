/**
 * Every Redis key chainr writes, under one configurable prefix.
 *
 * - `run:<uid>`        hash: the run and all its jobs' state (fields `<job>.status`, ...)
 * - `runs`             sorted set of run uids, all scored 0: uids are time-ordered (UUIDv7),
 *                      so lexicographic order is creation order
 * - `events`           stream of every run and job transition
 * - `log:<uid>:<job>`  stream of one job's log lines
 * - `cancel`           pub/sub channel: uid of a run just canceled, for workers to stop its jobs
 * - `bull:*`           BullMQ's queue of ready jobs
 */
export function makeKeys(prefix: string) {
  return {
    prefix,
    run: (uid: string) => `${prefix}run:${uid}`,
    runs: `${prefix}runs`,
    events: `${prefix}events`,
    log: (uid: string, job: string) => `${prefix}log:${uid}:${job}`,
    cancelChannel: `${prefix}cancel`,
    /** BullMQ's own prefix (it appends `:<queue>:...`). */
    bullPrefix: `${prefix}bull`,
  };
}

export type Keys = ReturnType<typeof makeKeys>;

/** The queue of ready jobs, shared by sched (initial enqueue) and work. */
export const READY_QUEUE = 'ready';

/** A job attempt's identity, also its BullMQ job id: enqueueing it twice is a no-op. */
export function attemptId(uid: string, job: string, attempt: number): string {
  return `${uid}/${job}/${attempt}`;
}
