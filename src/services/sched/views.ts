/** The wire format of API objects (Kubernetes-style, compatible with the original chainr). */
import type { JobRecord, RunRecord, RunSummary } from '../../store/runs.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export const runLink = (uid: string) => `/api/runs/${uid}`;

function jobView(j: JobRecord) {
  // Built field by field rather than spread from a shared object: a list page renders hundreds.
  const startedAt = iso(j.startedAt);
  const finishedAt = iso(j.finishedAt);
  const current = {
    attempt: j.attempt,
    startedAt,
    finishedAt,
    exitCode: j.exitCode,
    reason: j.reason,
    status: j.status,
  };
  return {
    name: j.name,
    status: j.status,
    attempt: j.attempt,
    startedAt,
    finishedAt,
    exitCode: j.exitCode,
    reason: j.reason,
    outputs: j.outputs,
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

/** A run's view; `withPipeline` needs the whole record, a summary (a list page's) has none. */
export function runView(run: RunSummary & Partial<RunRecord>, options: { withPipeline: boolean }) {
  return {
    kind: 'Run' as const,
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
    jobs: run.jobs.map(jobView),
    ...(options.withPipeline && { pipeline: run.pipeline }),
  };
}

export function errorView(message: string) {
  return { kind: 'Error' as const, error: message };
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
