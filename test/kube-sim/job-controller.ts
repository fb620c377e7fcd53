/**
 * The Job controller and the garbage collector, as far as chainr's Jobs need them: one pod per
 * Job (replaced while failures stay within backoffLimit), status counters, the conditions of
 * Kubernetes 1.31+ (SuccessCriteriaMet then Complete; FailureTarget then Failed once no pod is
 * left running), activeDeadlineSeconds, ttlSecondsAfterFinished, and deletion with Background,
 * Foreground or Orphan propagation to the Job's pods.
 */
import type { IJobCondition } from 'kubernetes-models/batch/v1/JobCondition';
import { podForJob } from './defaults.ts';
import type { Faults } from './faults.ts';
import type { Kubelet } from './kubelet.ts';
import { apiTime, type SimJob, type SimPod, type Store, type StoreEvent } from './store.ts';

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

const jobCondition = (type: string, reason: string, message: string): IJobCondition => ({
  type,
  status: 'True',
  reason,
  message,
  lastProbeTime: apiTime(),
  lastTransitionTime: apiTime(),
});

const has = (job: SimJob, type: string) =>
  job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
const isFinished = (job: SimJob) => has(job, 'Complete') || has(job, 'Failed');
const isTerminal = (pod: SimPod) =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export class JobController {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Pods already counted as succeeded or failed, by uid. */
  private readonly counted = new Map<string, 'succeeded' | 'failed'>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly kubelet: Kubelet,
    private readonly faults: Faults,
  ) {
    this.unsubscribe = store.onChange((e) => this.react(e));
  }

  stop(): void {
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
  }

  /** Deletes a Job the way the API server and the garbage collector do for `propagation`. */
  deleteJob(namespace: string, name: string, propagation: Propagation): SimJob | undefined {
    const pods = this.podsOf(namespace, name);
    if (propagation === 'Foreground') {
      const job = this.store.update('jobs', namespace, name, (j) => {
        j.metadata.deletionTimestamp ??= apiTime();
        j.metadata.deletionGracePeriodSeconds = 0;
        j.metadata.finalizers = [
          ...new Set([...(j.metadata.finalizers ?? []), 'foregroundDeletion']),
        ];
      });
      for (const p of pods) this.kubelet.terminate(namespace, p.metadata.name);
      this.later(() => this.sync(namespace, name));
      return job;
    }
    const removed = this.store.remove('jobs', namespace, name);
    for (const p of pods) {
      if (propagation === 'Background') this.kubelet.terminate(namespace, p.metadata.name);
      else
        this.store.update(
          'pods',
          namespace,
          p.metadata.name,
          (x) => delete x.metadata.ownerReferences,
        );
    }
    return removed;
  }

  private later(fn: () => void, ms = 0): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private react(e: StoreEvent): void {
    const { namespace, name } = e.object.metadata;
    if (e.resource === 'jobs' && e.type === 'ADDED') this.later(() => this.start(namespace, name));
    if (e.resource === 'pods') {
      const owner = e.object.metadata.ownerReferences?.find(
        (o) => o.kind === 'Job' && o.controller,
      );
      if (owner) this.later(() => this.sync(namespace, owner.name));
    }
  }

  private podsOf(namespace: string, job: string): SimPod[] {
    return this.store.list(
      'pods',
      (p) =>
        p.metadata.namespace === namespace &&
        (p.metadata.ownerReferences ?? []).some((o) => o.kind === 'Job' && o.name === job),
    );
  }

  private start(namespace: string, name: string): void {
    const job = this.store.update('jobs', namespace, name, (j) => {
      j.status = {
        startTime: apiTime(),
        active: 0,
        ready: 0,
        terminating: 0,
        uncountedTerminatedPods: {},
      };
    });
    if (!job || job.spec?.suspend) return;
    this.createPod(job);
    const deadline = job.spec?.activeDeadlineSeconds;
    // Counted from startTime as stored, to the whole second: up to a second early.
    const startedMs = Date.parse(job.status?.startTime ?? '');
    if (deadline !== undefined)
      this.later(
        () => this.expire(namespace, name, job.metadata.uid),
        Math.max(0, startedMs + deadline * 1000 - Date.now()),
      );
  }

  private createPod(job: SimJob): void {
    const pod = this.store.create('pods', podForJob(job));
    this.kubelet.start(pod);
  }

  private expire(namespace: string, name: string, uid: string): void {
    const job = this.store.get('jobs', namespace, name);
    if (!job || job.metadata.uid !== uid || isFinished(job) || has(job, 'FailureTarget')) return;
    if (this.faults.deadlinesLate) return;
    this.store.update('jobs', namespace, name, (j) => {
      j.status = {
        ...j.status,
        conditions: [
          ...(j.status?.conditions ?? []),
          jobCondition(
            'FailureTarget',
            'DeadlineExceeded',
            'Job was active longer than specified deadline',
          ),
        ],
      };
    });
    for (const p of this.podsOf(namespace, name))
      if (!isTerminal(p)) this.kubelet.terminate(namespace, p.metadata.name);
    this.sync(namespace, name);
  }

  private sync(namespace: string, name: string): void {
    const job = this.store.get('jobs', namespace, name);
    if (!job) return;
    const pods = this.podsOf(namespace, name);
    if (job.metadata.deletionTimestamp) {
      if (pods.length === 0) this.store.remove('jobs', namespace, name);
      return;
    }
    let { succeeded = 0, failed = 0 } = job.status ?? {};
    for (const p of pods) {
      if (!isTerminal(p) || this.counted.has(p.metadata.uid)) continue;
      const outcome = p.status?.phase === 'Succeeded' ? 'succeeded' : 'failed';
      this.counted.set(p.metadata.uid, outcome);
      if (outcome === 'succeeded') succeeded += 1;
      else failed += 1;
    }
    const running = pods.filter((p) => !isTerminal(p));
    const active = running.filter((p) => !p.metadata.deletionTimestamp).length;
    const ready = running.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    const wasFinished = isFinished(job);
    const conditions = wasFinished
      ? (job.status?.conditions ?? [])
      : this.nextConditions(job, { succeeded, failed, running: running.length });
    const complete = conditions.some((c) => c.type === 'Complete');
    const finished = complete || conditions.some((c) => c.type === 'Failed');
    if (
      !finished &&
      !conditions.some((c) => c.type === 'FailureTarget') &&
      running.length === 0 &&
      succeeded < (job.spec?.completions ?? 1)
    )
      this.createPod(job); // a failure within backoffLimit: the controller retries
    this.store.update('jobs', namespace, name, (j) => {
      j.status = {
        ...j.status,
        active,
        ready,
        terminating: running.length - active,
        ...(succeeded > 0 && { succeeded }),
        ...(failed > 0 && { failed }),
        ...(conditions.length > 0 && { conditions }),
        ...(complete && !wasFinished && { completionTime: apiTime() }),
      };
    });
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (finished && !wasFinished && ttl !== undefined) {
      const uid = job.metadata.uid;
      this.later(() => {
        if (this.store.get('jobs', namespace, name)?.metadata.uid === uid)
          this.deleteJob(namespace, name, 'Background');
      }, ttl * 1000);
    }
  }

  private nextConditions(
    job: SimJob,
    n: { succeeded: number; failed: number; running: number },
  ): IJobCondition[] {
    const conditions = [...(job.status?.conditions ?? [])];
    const add = (type: string, reason: string, message: string) => {
      if (!conditions.some((c) => c.type === type))
        conditions.push(jobCondition(type, reason, message));
    };
    if (n.succeeded >= (job.spec?.completions ?? 1)) {
      const message = 'Reached expected number of succeeded pods';
      add('SuccessCriteriaMet', 'CompletionsReached', message);
      if (n.running === 0) add('Complete', 'CompletionsReached', message);
      return conditions;
    }
    if (n.failed > (job.spec?.backoffLimit ?? 6))
      add('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    const target = conditions.find((c) => c.type === 'FailureTarget');
    if (target && n.running === 0) add('Failed', target.reason ?? '', target.message ?? '');
    return conditions;
  }
}
