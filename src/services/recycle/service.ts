/**
 * recycle: a level-triggered reconciler. Every cycle it looks at what should be true and repairs
 * what is not — idempotently, so any number of recycle replicas may run:
 * - a run that stopped advancing (counters off, a job ended but its dependents were never
 *   decided, all jobs ended but the run not closed): repair-run.lua;
 * - an attempt that should be in its queue but is not (lost between a transition and the
 *   enqueue, or given up by BullMQ after repeated infrastructure errors): enqueued again. An
 *   attempt held by a live worker is left alone; a worker that died while holding one is BullMQ's
 *   stalled-job recovery's to handle (its lock expires and the job is re-delivered);
 * - archiving, with an archive: ended runs past the archive window move to it (archiver.ts);
 * - retention, without one: ended runs older than the retention period are deleted with their
 *   logs. With an archive, a run leaves Redis only once archived, and the archive's own
 *   retention (by age and count, per status) deletes it from there;
 * - with the kubernetes executor, its Jobs of ended or deleted runs (collectOrphans). Deleting a
 *   Job twice is harmless, so replicas need not coordinate;
 * - the directories of runs that no longer exist (workspaces on this host): a run is deleted only
 *   once ended, so its last job has ended by then. Those that outlive Redis (artifacts) stay as
 *   long as the run is in the archive.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isTerminalRun, type RunStatus } from '../../core/types.ts';
import type { KubernetesClient } from '../../executors/kubernetes/client.ts';
import type { RunDirectories } from '../../executors/workspaces.ts';
import type {
  collectOrphans,
  collectWorkspaceClaims,
  RunState,
} from '../../executors/kubernetes/orphans.ts';
import { attemptId, type Keys } from '../../store/keys.ts';
import { LogStore } from '../../store/logs.ts';
import { ReadyQueues } from '../../store/queue.ts';
import type { RunRecord } from '../../store/run-hash.ts';
import { RunStore } from '../../store/runs.ts';
import { Transitions, type ReadyJob } from '../../store/scripts.ts';
import { repairsTotal } from '../../http/ops/metrics.ts';
import { archiveEnded, type ArchiverOptions } from './archiver.ts';

type OrphanClient = Pick<KubernetesClient, 'batch' | 'core' | 'namespace'>;

export interface RecycleOptions {
  connect: () => Redis;
  keys: Keys;
  maxEvents: number;
  logger: Logger;
  /** Time between cycles. */
  intervalMs: number;
  /** Runs younger than this are left to the normal path. */
  graceMs: number;
  /** Ended runs are deleted this long after they ended; 0 keeps them forever. Not with `archive`. */
  retentionMs: number;
  /** The SQL archive ended runs move to, and when; undefined: none. */
  archive?: ArchiverOptions;
  /** The kubernetes executor's cluster, when it is configured: its orphaned Jobs are deleted. */
  kubernetes?: {
    connect: () => Promise<OrphanClient>;
    /** Only the Jobs of this deployment (the chainr.io/instance label). */
    instance?: string;
  };
  /** Per-run directories on this host (workspaces), removed once their run no longer exists. */
  runDirectories?: RunDirectorySet[];
}

export type RunDirectorySet = Pick<RunDirectories, 'list' | 'remove' | 'root'> & {
  /** Kept while the run is in the archive, not only while it is in Redis (artifacts). */
  keptWhileArchived?: boolean;
};

const BATCH = 500;

export interface CycleReport {
  runsRepaired: number;
  requeued: number;
  deleted: number;
  /** Runs moved to the archive (and out of Redis). */
  archived: number;
  /** Runs deleted from the archive by its retention. */
  archiveExpired: number;
  /** Kubernetes Jobs of ended or deleted runs, deleted. */
  orphanJobs: number;
  /** Directories of runs that no longer exist, removed. */
  runDirectories: number;
}

export class Recycler {
  private readonly runs: RunStore;
  private readonly transitions: Transitions;
  private readonly queues: ReadyQueues;
  private readonly logs: LogStore;
  private kubernetes?: Promise<
    [
      {
        collectOrphans: typeof collectOrphans;
        collectWorkspaceClaims: typeof collectWorkspaceClaims;
      },
      OrphanClient,
    ]
  >;

  constructor(
    private readonly redis: Redis,
    private readonly options: RecycleOptions,
  ) {
    this.runs = new RunStore(redis, options.keys, options.maxEvents);
    this.transitions = new Transitions(redis, options.keys, options.maxEvents);
    this.queues = new ReadyQueues(redis, options.keys);
    // Read only (the archiver's): the cap on a log's lines applies to appends.
    this.logs = new LogStore(redis, options.keys, 0);
  }

  async cycle(now = Date.now()): Promise<CycleReport> {
    const report: CycleReport = {
      runsRepaired: 0,
      requeued: 0,
      deleted: 0,
      archived: 0,
      archiveExpired: 0,
      orphanJobs: 0,
      runDirectories: 0,
    };
    for (const status of ['PENDING', 'RUNNING'] as const) {
      for (const uid of await this.runs.oldest(this.options.keys.runsByStatus(status), BATCH)) {
        const run = await this.runs.get(uid);
        if (!run || now - run.createdAt < this.options.graceMs) continue;
        await this.repair(run, now, report);
      }
    }
    const { archive } = this.options;
    if (archive) {
      report.archived = await archiveEnded(
        { runs: this.runs, logs: this.logs, keys: this.options.keys },
        archive,
        now,
      );
      if (report.archived > 0) {
        repairsTotal.inc({ kind: 'archive' }, report.archived);
        this.options.logger.info({ archived: report.archived }, 'recycle: archived ended runs');
      }
      if (archive.retention) {
        report.archiveExpired = await archive.archive.applyRetention(archive.retention, now);
        if (report.archiveExpired > 0)
          this.options.logger.info(
            { deleted: report.archiveExpired },
            'recycle: deleted runs from the archive by its retention',
          );
      }
    } else if (this.options.retentionMs > 0) report.deleted = await this.expire(now);
    if (this.options.kubernetes) report.orphanJobs = await this.collectKubernetesOrphans(now);
    for (const directories of this.options.runDirectories ?? [])
      report.runDirectories += await this.removeRunDirectories(directories, now);
    return report;
  }

  /** Removes the directories of runs that no longer exist (once older than the grace period). */
  private async removeRunDirectories(directories: RunDirectorySet, now: number): Promise<number> {
    const found = (await directories.list()).filter(
      (d) => now - d.modifiedAt >= this.options.graceMs,
    );
    let removed = 0;
    for (let i = 0; i < found.length; i += BATCH) {
      const batch = found.slice(i, i + BATCH);
      const states = await this.runStates(batch.map((d) => d.uid));
      const missing = batch.map((d) => d.uid).filter((uid) => states.get(uid) === 'missing');
      const archived =
        directories.keptWhileArchived && this.options.archive
          ? await this.options.archive.archive.holds(missing)
          : new Set<string>();
      for (const uid of missing) {
        if (archived.has(uid)) continue;
        await directories.remove(uid);
        removed += 1;
      }
    }
    if (removed > 0) {
      repairsTotal.inc({ kind: 'run-directory' }, removed);
      this.options.logger.info(
        { removed, root: directories.root },
        'recycle: removed the directories of runs that no longer exist',
      );
    }
    return removed;
  }

  private async collectKubernetesOrphans(now: number): Promise<number> {
    const k = this.options.kubernetes;
    if (!k) return 0;
    // Loaded on the first cycle, once: the Kubernetes client takes seconds to load.
    this.kubernetes ??= Promise.all([import('../../executors/kubernetes/orphans.ts'), k.connect()]);
    const [orphans, client] = await this.kubernetes;
    const collected = await orphans.collectOrphans({
      client,
      runStates: (uids) => this.runStates(uids),
      ...(k.instance !== undefined && { instance: k.instance }),
      now,
    });
    const claims = await orphans.collectWorkspaceClaims({
      client,
      runStates: (uids) => this.runStates(uids),
      // A claim is made by a job of a run that exists: one whose run is missing outlived it.
      missingGraceMs: this.options.graceMs,
      ...(k.instance !== undefined && { instance: k.instance }),
      now,
    });
    const log = this.options.logger;
    if (collected.deleted.length > 0) {
      repairsTotal.inc({ kind: 'kubernetes-job' }, collected.deleted.length);
      log.info({ jobs: collected.deleted }, 'recycle: deleted Kubernetes Jobs of ended runs');
    }
    for (const failure of collected.failed)
      log.warn(failure, 'recycle: could not delete a Kubernetes Job of an ended run');
    if (claims.deleted.length > 0) {
      repairsTotal.inc({ kind: 'workspace-claim' }, claims.deleted.length);
      log.info({ claims: claims.deleted }, 'recycle: deleted the workspace claims of deleted runs');
    }
    for (const failure of claims.failed)
      log.warn(failure, 'recycle: could not delete the workspace claim of a deleted run');
    return collected.deleted.length + claims.deleted.length;
  }

  private async runStates(uids: string[]): Promise<Map<string, RunState>> {
    const pipeline = this.redis.pipeline();
    for (const uid of uids) pipeline.hget(this.options.keys.run(uid), 'status');
    const answers = (await pipeline.exec()) ?? [];
    return new Map(
      uids.map((uid, i) => {
        const [err, status] = answers[i] ?? [null, null];
        if (err) throw err;
        if (status === null) return [uid, 'missing'];
        return [uid, isTerminalRun(status as RunStatus) ? 'ended' : 'active'];
      }),
    );
  }

  private async repair(run: RunRecord, now: number, report: CycleReport): Promise<void> {
    const log = this.options.logger;
    const repaired = await this.transitions.repairRun(run.uid, now);
    if (repaired.code === 'ok' && repaired.repairs > 0) {
      report.runsRepaired += 1;
      repairsTotal.inc({ kind: 'run' });
      log.warn(
        { run: run.uid, repairs: repaired.repairs },
        'recycle: repaired a run that stopped advancing',
      );
      await this.queues.enqueue(run.uid, repaired.ready);
    }
    if (repaired.code !== 'ok') return;
    const fresh = (await this.runs.get(run.uid)) ?? run;
    for (const job of fresh.jobs) {
      const inQueue = (job.status === 'PENDING' && job.queued) || job.status === 'RUNNING';
      if (!inQueue) continue;
      const queue = this.queues.queue(job.executor);
      const id = attemptId(run.uid, job.name, job.attempt);
      const state = await queue.getJobState(id);
      const lost = (s: string) => s === 'unknown' || s === 'failed' || s === 'completed';
      if (!lost(state)) continue;
      // A job carried on in a worker's slot has no queue entry of its own: it is in the queue
      // as long as its carrier is (a stopped worker's carrier is delivered again, and resumes it).
      const via = job.status === 'RUNNING' ? await this.carrierOf(run.uid, job.name) : undefined;
      if (via !== undefined && state === 'unknown' && !lost(await queue.getJobState(via))) continue;
      // The attempt may have ended (and left the queue) since the run was read: look again.
      const [status, attempt] = await this.redis.hmget(
        this.options.keys.run(run.uid),
        `${job.name}.status`,
        `${job.name}.attempt`,
      );
      if (status !== job.status || attempt !== String(job.attempt)) continue;
      // Nobody will run this attempt: hand it to the queue again (start-job.lua decides, when
      // it is picked up, whether to start it or run it again after a dead worker).
      if (state !== 'unknown') await queue.remove(id);
      const ready: ReadyJob = { job: job.name, attempt: job.attempt, executor: job.executor };
      await this.queues.enqueue(run.uid, [ready]);
      report.requeued += 1;
      repairsTotal.inc({ kind: 'requeue' });
      log.warn(
        { run: run.uid, job: job.name, attempt: job.attempt, state },
        'recycle: re-enqueued a lost attempt',
      );
    }
  }

  /** The queue entry of the job that carried this one on (`<job>.via`), if one did. */
  private async carrierOf(uid: string, job: string): Promise<string | undefined> {
    const via = await this.redis.hget(this.options.keys.run(uid), `${job}.via`);
    if (via === null) return undefined;
    const at = via.lastIndexOf('/');
    return attemptId(uid, via.slice(0, at), Number(via.slice(at + 1)));
  }

  /** Deletes ended runs past retention, oldest first, stopping at the first run too young. */
  private async expire(now: number): Promise<number> {
    const cutoff = now - this.options.retentionMs;
    let deleted = 0;
    for (const uid of await this.runs.oldest(this.options.keys.runs, BATCH)) {
      const run = await this.runs.get(uid);
      if (!run) continue;
      if (run.createdAt > cutoff) break; // uids are time-ordered: every later run is younger
      if (!isTerminalRun(run.status) || (run.finishedAt ?? now) > cutoff) continue;
      if (!(await this.runs.delete(run))) continue; // retried since it was read
      deleted += 1;
      repairsTotal.inc({ kind: 'retention' });
    }
    if (deleted > 0) this.options.logger.info({ deleted }, 'recycle: deleted runs past retention');
    return deleted;
  }

  close(): Promise<void> {
    return this.queues.close();
  }
}

export function startRecycle(options: RecycleOptions): { close(): Promise<void> } {
  const redis = options.connect();
  const recycler = new Recycler(redis, options);
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    if (stopped) return;
    current = recycler
      .cycle()
      .catch((err: unknown) =>
        options.logger.warn({ err }, 'recycle cycle failed; next one retries'),
      );
  }, options.intervalMs);
  return {
    async close() {
      stopped = true;
      clearInterval(timer);
      await current;
      await recycler.close();
      redis.disconnect();
    },
  };
}
