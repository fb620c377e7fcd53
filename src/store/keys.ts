/**
 * Every Redis key chainr writes, under one configurable prefix.
 *
 * - `run:<uid>`        hash: the run and all its jobs' state (fields `<job>.status`, ...)
 * - `run:<uid>:spec`   hash: what the run was created with and a list page never shows: the
 *                      pipeline (`pipeline`) and each job's spec (`<job>.spec`); never changed
 * - `runs`             sorted set of run uids, all scored 0: uids are time-ordered (UUIDv7),
 *                      so lexicographic order is creation order
 * - `runs:status:<S>`  the same, for runs in status S (kept by the Lua transitions)
 * - `runs:name:<n>`    the same, for runs of pipelines named n
 * - `runs:label:<k>=<v>` the same, for runs labelled k=v
 * - `jobs:ended`       hash: status → jobs ended in it so far (kept by the Lua transitions)
 * - `events`           stream of every run and job transition
 * - `log:<uid>:<job>`  stream of one job's log lines
 * - `cancel`           pub/sub channel: uid of a run just canceled, for workers to stop its jobs
 * - `schedules`        hash: schedule id → definition
 * - `instance:<id>`    string (JSON): one live service instance, expiring unless its heartbeat renews it
 * - `instance:<id>:holds` set: the queue entries a live work instance is processing, expiring with it
 * - `instances`        sorted set of instance ids scored by when their key expires, so that listing
 *                      them needs no SCAN
 * - `bull:*`           BullMQ's queues: ready attempts per executor, schedule ticks
 */
export function makeKeys(prefix: string) {
  return {
    prefix,
    run: (uid: string) => `${prefix}run:${uid}`,
    runSpec: (uid: string) => `${prefix}run:${uid}:spec`,
    runs: `${prefix}runs`,
    /** Prefix of the per-status indexes; the Lua scripts append the status. */
    statusIndexPrefix: `${prefix}runs:status:`,
    runsByStatus: (status: string) => `${prefix}runs:status:${status}`,
    /** Hash: jobs ended so far, per status (metrics). The Lua scripts find it beside `runs:`. */
    jobsEnded: `${prefix}jobs:ended`,
    runsByName: (name: string) => `${prefix}runs:name:${name}`,
    runsByLabel: (key: string, value: string) => `${prefix}runs:label:${key}=${value}`,
    schedules: `${prefix}schedules`,
    events: `${prefix}events`,
    log: (uid: string, job: string) => `${prefix}log:${uid}:${job}`,
    cancelChannel: `${prefix}cancel`,
    instance: (id: string) => `${prefix}instance:${id}`,
    instanceHolds: (id: string) => `${prefix}instance:${id}:holds`,
    /** Prefix of the instance keys; start-job.lua appends an id (and `:holds`). */
    instancePrefix: `${prefix}instance:`,
    instances: `${prefix}instances`,
    /** BullMQ's own prefix (it appends `:<queue>:...`). */
    bullPrefix: `${prefix}bull`,
  };
}

export type Keys = ReturnType<typeof makeKeys>;

/** The queue of ready attempts for one executor, shared by sched (roots) and work. */
export function readyQueueName(executor: string): string {
  return `ready-${executor}`;
}

/** The queue of schedule ticks (BullMQ job schedulers). */
export const SCHEDULE_QUEUE = 'schedules';

/** A job attempt's identity, also its BullMQ job id: enqueueing it twice is a no-op. */
export function attemptId(uid: string, job: string, attempt: number): string {
  return `${uid}/${job}/${attempt}`;
}
