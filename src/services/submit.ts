/** Submitting a run: shared by the API (POST /api/runs, resubmit) and schedule ticks. */
import { resolveParams } from '../core/params.ts';
import { planRun } from '../core/plan.ts';
import type { Pipeline } from '../core/types.ts';
import type { Keys } from '../store/keys.ts';
import type { ReadyQueues } from '../store/queue.ts';
import type { ReadyJob } from '../store/scripts.ts';
import { RunStore, type RunRecord } from '../store/runs.ts';

export type SubmitResult =
  | { ok: true; uid: string; run: RunRecord }
  | { ok: false; errors: { path: string; message: string }[] };

export class Submitter {
  /**
   * Runs are created on the queues' connection: a run's creation and its roots' adds then leave
   * in one socket write, in that order, and cost one round trip.
   */
  private readonly runs: RunStore;

  constructor(
    private readonly queues: ReadyQueues,
    keys: Keys,
    maxEvents: number,
    private readonly defaultExecutor: string,
  ) {
    this.runs = new RunStore(queues.connection, keys, maxEvents);
  }

  /** Creates a run of a valid pipeline with the given parameters and enqueues its roots. */
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
    return { ok: true, uid, run };
  }

  enqueue(uid: string, ready: ReadyJob[]): Promise<void> {
    return this.queues.enqueue(uid, ready);
  }
}
