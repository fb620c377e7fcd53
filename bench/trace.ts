/**
 * Where a hop's time goes, in chainr's worker: the bench wraps the store's transition and enqueue
 * methods for one traced repetition (product code unchanged) and notes when each step of each
 * attempt began and ended.
 */
import { ReadyQueues } from '../src/store/queue.ts';
import { Transitions } from '../src/store/scripts.ts';
import type { Attempt, AttemptResult, Carrier, ReadyJob } from '../src/store/scripts.ts';

/** performance.now() marks by `<uid>/<job>`. */
export interface Marks {
  finishStart?: number;
  finishEnd?: number;
  /** When this job was enqueued (by its dependency's worker). */
  enqueueStart?: number;
  enqueueEnd?: number;
  startStart?: number;
  startEnd?: number;
}

export async function traced<T>(fn: () => Promise<T>): Promise<[T, Map<string, Marks>]> {
  const marks = new Map<string, Marks>();
  const mark = (key: string, m: Marks) => marks.set(key, { ...marks.get(key), ...m });
  const t = Transitions.prototype;
  const q = ReadyQueues.prototype;
  // The originals, called with the instance as `this` and put back afterwards.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { startJob, finishJob } = t;
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { enqueue } = q;
  t.startJob = async function (this: Transitions, a: Attempt, now: number) {
    const startStart = performance.now();
    const r = await startJob.call(this, a, now);
    mark(`${a.uid}/${a.job}`, { startStart, startEnd: performance.now() });
    return r;
  };
  t.finishJob = async function (
    this: Transitions,
    a: Attempt,
    r0: AttemptResult,
    now: number,
    carrier?: Carrier,
  ) {
    const finishStart = performance.now();
    const r = await finishJob.call(this, a, r0, now, carrier);
    mark(`${a.uid}/${a.job}`, { finishStart, finishEnd: performance.now() });
    return r;
  };
  q.enqueue = async function (this: ReadyQueues, uid: string, ready: ReadyJob[], delay?: number) {
    const enqueueStart = performance.now();
    await enqueue.call(this, uid, ready, delay);
    const enqueueEnd = performance.now();
    for (const r of ready) mark(`${uid}/${r.job}`, { enqueueStart, enqueueEnd });
  };
  try {
    return [await fn(), marks];
  } finally {
    Object.assign(t, { startJob, finishJob });
    q.enqueue = enqueue;
  }
}

/**
 * The steps of the hop from job a to job b, in ms: a's executor returned → finish-job.lua called
 * (`to_finish`), the script (`finish_job`), then either b carried on in a's slot → b's executor
 * called (`carried_to_executor`), or → add of b (`to_enqueue`, `enqueue`), → BullMQ hands b to
 * a worker slot (`bullmq_fetch`: moveToFinished of a, fetch of b), start-job.lua (`start_job`),
 * → b's executor called (`to_executor`).
 */
export function hopSteps(at: Map<string, number>, marks: Map<string, Marks>, a: string, b: string) {
  const ma = marks.get(a) ?? {};
  const mb = marks.get(b) ?? {};
  const d = (x?: number, y?: number) => (x === undefined || y === undefined ? NaN : y - x);
  const finish = {
    to_finish_ms: d(at.get(a), ma.finishStart),
    finish_job_ms: d(ma.finishStart, ma.finishEnd),
  };
  if (mb.startStart === undefined)
    return { ...finish, carried_to_executor_ms: d(ma.finishEnd, at.get(b)) };
  return {
    ...finish,
    to_enqueue_ms: d(ma.finishEnd, mb.enqueueStart),
    enqueue_ms: d(mb.enqueueStart, mb.enqueueEnd),
    bullmq_fetch_ms: d(mb.enqueueEnd, mb.startStart),
    start_job_ms: d(mb.startStart, mb.startEnd),
    to_executor_ms: d(mb.startEnd, at.get(b)),
  };
}
