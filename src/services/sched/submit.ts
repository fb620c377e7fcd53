/** Submitting a run: shared by the API (POST /api/runs, resubmit) and schedule ticks. */
import { resolveParams } from '../../core/params.ts';
import { planRun } from '../../core/plan.ts';
import type { Pipeline, WorkspaceAccessMode } from '../../core/types.ts';
import { singleNodeWorkspaceIssue } from '../../core/workspace.ts';
import type { Keys } from '../../store/keys.ts';
import type { ReadyQueues } from '../../store/queue.ts';
import { ReplicaConfirmer, type ReplicaConfirmation } from '../../store/replication.ts';
import type { ReadyJob } from '../../store/scripts.ts';
import type { RunRecord } from '../../store/run-hash.ts';
import { RunStore } from '../../store/runs.ts';

export type SubmitResult =
  | { ok: true; uid: string; run: RunRecord }
  | { ok: false; errors: { path: string; message: string }[] };

export class Submitter {
  /**
   * Runs are created on the queues' connection: a run's creation and its roots' adds then leave
   * in one socket write, in that order, and cost one round trip.
   */
  private readonly runs: RunStore;
  /** On the same connection: WAIT covers the writes of the connection it is sent on. */
  private readonly replicas: ReplicaConfirmer;

  constructor(
    private readonly queues: ReadyQueues,
    keys: Keys,
    maxEvents: number,
    private readonly defaultExecutor: string,
    replication: ReplicaConfirmation = { replicas: 0, timeoutMs: 0 },
    private readonly refuseExecutor: (executor: string) => string | undefined = () => undefined,
    private readonly workspaceAccessModes: WorkspaceAccessMode[] = ['ReadWriteOnce'],
  ) {
    this.runs = new RunStore(queues.connection, keys, maxEvents);
    this.replicas = new ReplicaConfirmer(queues.connection, replication);
  }

  /**
   * Creates a run of a valid pipeline with the given parameters and enqueues its roots; answers
   * once both are on the required replicas (NotReplicatedError when they are not in time).
   */
  async submit(
    pipeline: Pipeline,
    params: unknown,
    labels: Record<string, string> = {},
  ): Promise<SubmitResult> {
    const resolved = resolveParams(pipeline, params);
    if (!resolved.ok) return resolved;
    const plan = planRun(pipeline, resolved.values, {
      defaultExecutor: this.defaultExecutor,
      labels,
    });
    const refused = Object.entries(plan.jobs).flatMap(([name, job]) => {
      const why = job && this.refuseExecutor(job.executor);
      if (!why) return [];
      const named = pipeline.jobs[name]?.executor !== undefined;
      return [
        {
          path: named ? `jobs.${name}.executor` : `jobs.${name}`,
          message: named ? why : `${why} (it names no executor: the default is ${job.executor})`,
        },
      ];
    });
    if (refused.length > 0) return { ok: false, errors: refused };
    const onKubernetes = Object.entries(plan.jobs)
      .filter(([, job]) => job.executor === 'kubernetes' && job.workspace)
      .map(([name]) => name);
    const shared = singleNodeWorkspaceIssue(
      plan.pipeline,
      new Set(onKubernetes),
      this.workspaceAccessModes,
    );
    if (shared) return { ok: false, errors: [shared] };
    const roots = (uid: string, queued: string[]) =>
      this.queues.enqueue(
        uid,
        queued.map((job) => ({
          job,
          attempt: 1,
          executor: plan.jobs[job]?.executor ?? this.defaultExecutor,
        })),
      );
    const { uid, run } = await this.runs.create(plan, Date.now(), roots);
    await this.replicas.confirm(uid);
    return { ok: true, uid, run };
  }

  enqueue(uid: string, ready: ReadyJob[]): Promise<void> {
    return this.queues.enqueue(uid, ready);
  }
}
