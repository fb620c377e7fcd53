/**
 * The baseline: a bare BullMQ program doing the same work as chainr and nothing else. A Redis hash
 * per pipeline holds each job's count of unfinished dependencies; a finishing job decrements its
 * dependents' counters (HINCRBY, one pipelined round trip) and enqueues those that reach zero (one
 * `add` each, sent together, as chainr does: cheaper than addBulk for a few jobs). No statuses,
 * events, logs, validation or API. Queue options are chainr's own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { endsWithThisProcess } from '../src/process/exit-cleanup.ts';
import { READY_JOB_OPTIONS } from '../src/store/queue.ts';
import { shapeNamed, type Shape } from './pipelines.ts';

export const BASE_PREFIX = 'base:';
const QUEUE = 'ready-noop';

interface BaseJob {
  /** pipeline id */
  p: string;
  /** shape name (the worker knows the DAG of each shape) */
  s: string;
  j: string;
}

/** Counts pipelines whose leaves have all run. */
export class Completion {
  private readonly left = new Map<string, number>();
  private ended = 0;
  private waiter: { n: number; done: (t: number) => void } | undefined;

  expect(p: string, leaves: number): void {
    this.left.set(p, leaves);
  }

  leaf(p: string): void {
    const left = (this.left.get(p) ?? 1) - 1;
    if (left > 0) return void this.left.set(p, left);
    this.left.delete(p);
    this.ended++;
    if (this.waiter && this.ended >= this.waiter.n) this.waiter.done(performance.now());
  }

  /** Resolves with performance.now() once n more pipelines have ended; call before submitting. */
  wait(n: number): Promise<number> {
    this.ended = 0;
    return new Promise((done) => (this.waiter = { n, done }));
  }
}

/** performance.now() marks of a traced job: its counters decremented, its enqueueing. */
export interface BaseMarks {
  countersStart?: number;
  countersEnd?: number;
  enqueueStart?: number;
  enqueueEnd?: number;
}

export interface Baseline {
  /** performance.now() of each `<pipeline>/<job>` that ran in this process. */
  at: Map<string, number>;
  /** Set to a map to note the steps of each job (chain-hop's traced repetition). */
  trace: { marks?: Map<string, BaseMarks> };
  completion: Completion;
  submit(shape: Shape): Promise<string>;
  stop(): Promise<void>;
}

export async function startBaseline(
  redisUrl: string,
  options: { work: boolean; concurrency: number; onLeaf?: (p: string) => void },
): Promise<Baseline> {
  const commands = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<BaseJob>(QUEUE, {
    connection: commands,
    prefix: `${BASE_PREFIX}bull`,
    defaultJobOptions: READY_JOB_OPTIONS,
  });
  const counters = (p: string) => `${BASE_PREFIX}p:${p}`;
  const entry = (p: string, s: string, j: string) => ({
    name: j,
    data: { p, s, j },
    opts: { jobId: `${p}/${j}` },
  });
  const addAll = (entries: ReturnType<typeof entry>[]) =>
    Promise.all(entries.map((e) => queue.add(e.name, e.data, e.opts)));
  const at = new Map<string, number>();
  const completion = new Completion();
  const onLeaf = options.onLeaf ?? ((p: string) => completion.leaf(p));

  const trace: Baseline['trace'] = {};
  const mark = (key: string, m: BaseMarks) =>
    trace.marks?.set(key, { ...trace.marks.get(key), ...m });

  async function processJob(job: Job<BaseJob>): Promise<void> {
    const { p, s, j } = job.data;
    at.set(`${p}/${j}`, performance.now());
    const next = shapeNamed(s).next[j];
    if (!next) return onLeaf(p);
    const countersStart = performance.now();
    const pipeline = commands.pipeline();
    for (const d of next) pipeline.hincrby(counters(p), d, -1);
    const replies = (await pipeline.exec()) ?? [];
    mark(`${p}/${j}`, { countersStart, countersEnd: performance.now() });
    const ready = next.filter((_, i) => replies[i]?.[1] === 0);
    if (ready.length === 0) return;
    const enqueueStart = performance.now();
    await addAll(ready.map((d) => entry(p, s, d)));
    const enqueueEnd = performance.now();
    for (const d of ready) mark(`${p}/${d}`, { enqueueStart, enqueueEnd });
  }

  let worker: Worker<BaseJob> | undefined;
  let workerConnection: Redis | undefined;
  if (options.work) {
    workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    worker = new Worker<BaseJob>(QUEUE, processJob, {
      connection: workerConnection,
      prefix: `${BASE_PREFIX}bull`,
      concurrency: options.concurrency,
      maxStalledCount: 100,
    });
    worker.on('error', (err) => console.error('baseline worker error:', err));
    await worker.waitUntilReady();
  }

  return {
    at,
    trace,
    completion,
    async submit(shape) {
      const p = randomUUID();
      completion.expect(p, shape.leaves.length);
      const fields: Record<string, number> = {};
      for (const [job, deps] of Object.entries(shape.deps)) fields[job] = deps.length;
      await commands.hset(counters(p), fields);
      await addAll(shape.roots.map((r) => entry(p, shape.name, r)));
      return p;
    },
    async stop() {
      await worker?.close();
      await queue.close();
      workerConnection?.disconnect();
      commands.disconnect();
    },
  };
}

/** Baseline workers as child processes (bench/baseline-worker.ts), reporting leaves over IPC. */
export async function spawnBaselineWorkers(
  redisUrl: string,
  count: number,
  concurrency: number,
  completion: Completion,
): Promise<{ pids: number[]; stop(): Promise<void> }> {
  const file = fileURLToPath(new URL('./baseline-worker.ts', import.meta.url));
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const child = endsWithThisProcess(
      fork(file, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, REDIS_URL: redisUrl, BASE_CONCURRENCY: String(concurrency) },
      }),
    );
    children.push(child);
    ready.push(
      new Promise((done, fail) => {
        child.once('exit', (code) => fail(new Error(`baseline worker exited (${code})`)));
        child.on('message', (m: { ready?: boolean; leaf?: string }) => {
          if (m.ready) done();
          if (m.leaf) completion.leaf(m.leaf);
        });
      }),
    );
  }
  const stop = () =>
    Promise.all(
      children.map(
        (c) =>
          new Promise<void>((done) => {
            if (c.exitCode !== null || c.signalCode !== null) return done();
            c.removeAllListeners('exit');
            c.once('exit', () => done());
            c.kill('SIGTERM');
          }),
      ),
    ).then(() => undefined);
  try {
    await Promise.all(ready);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pids: children.map((c) => c.pid ?? 0), stop };
}
