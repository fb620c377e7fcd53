/** Runs and jobs as the wire contract (src/api/wire.ts) shows them, from their records. */
import type { Job, Run } from '../../api/wire.ts';
import type { JobRecord, RunRecord, RunSummary } from '../../store/run-hash.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export const runLink = (uid: string) => `/api/runs/${uid}`;

/** Why a queued job's executor is served by no live worker (WorkerCoverage), if it is not. */
export type Unserved = (executor: string) => string | undefined;

function jobView(j: JobRecord, unserved: Unserved | undefined): Job {
  // Built field by field rather than spread from a shared object: a list page renders hundreds.
  const startedAt = iso(j.startedAt);
  const finishedAt = iso(j.finishedAt);
  // In its queue with nothing else to say: it waits for a worker, maybe one that no one runs.
  const waiting = j.status === 'PENDING' && j.queued && !j.reason && j.executor !== '';
  const cause = waiting ? unserved?.(j.executor) : undefined;
  const reason = cause ? `waiting for a worker: ${cause}` : j.reason;
  const current = {
    attempt: j.attempt,
    startedAt,
    finishedAt,
    exitCode: j.exitCode,
    reason,
    status: j.status,
  };
  return {
    name: j.name,
    status: j.status,
    // Records written before jobs named their executor leave it out.
    executor: j.executor === '' ? undefined : j.executor,
    attempt: j.attempt,
    startedAt,
    finishedAt,
    exitCode: j.exitCode,
    reason,
    outputs: j.outputs,
    artifacts: j.artifacts,
    tolerated: j.tolerated ? true : undefined,
    logTruncated: j.logTruncated,
    // Every attempt, the current one last (its status is the job's).
    attempts:
      j.attempts.length === 0
        ? [current]
        : [
            ...j.attempts.map((a) => ({
              ...a,
              startedAt: iso(a.startedAt),
              finishedAt: iso(a.finishedAt),
            })),
            current,
          ],
  };
}

/**
 * A run's view; `withPipeline` needs the whole record, a summary (a list page's) has none;
 * `unserved` gives a queued job's reason when no live worker serves its executor.
 */
export function runView(
  run: RunSummary & Partial<RunRecord>,
  options: { withPipeline: boolean; unserved?: Unserved },
): Run {
  return {
    kind: 'Run',
    metadata: {
      uid: run.uid,
      selfLink: runLink(run.uid),
      creationTimestamp: iso(run.createdAt),
      name: run.name,
      labels: run.labels,
    },
    params: run.params,
    status: run.status,
    reason: run.reason,
    createdAt: iso(run.createdAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    jobs: run.jobs.map((j) => jobView(j, options.unserved)),
    pipeline: options.withPipeline ? run.pipeline : undefined,
  };
}

/** The continue token of a run list: opaque to clients, the last uid of the page inside. */
export const encodeContinue = (uid: string) => Buffer.from(uid, 'utf8').toString('base64url');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function decodeContinue(token: string): string | undefined {
  const uid = Buffer.from(token, 'base64url').toString('utf8');
  return UUID.test(uid) ? uid : undefined;
}

export function isUid(value: string): boolean {
  return UUID.test(value);
}
