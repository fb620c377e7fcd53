/** The parent's side of bench/client.ts: a child process that submits runs and generates load. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { endsWithThisProcess } from '../src/process/exit-cleanup.ts';

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  connections: number;
  /** Offered requests per second, all connections together. */
  rate: number;
  durationS: number;
}

export interface LoadFigures {
  latency_p50_ms: number;
  latency_p99_ms: number;
  latency_max_ms: number;
  achieved_per_s: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
}

export interface BatchResult {
  wall_ms: number;
  uids: string[];
}

export type ClientOp =
  | { op: 'batch'; url: string; body: string; n: number; parallel: number }
  | { op: 'load'; options: LoadOptions }
  | { op: 'store'; prefix: string; pipeline: string; n: number };

export type ClientRequest = { id: number } & ClientOp;

export type ClientReply = { id: number } & ({ result: unknown } | { error: string });

export interface Client {
  pid: number;
  /** Submits n runs (`parallel` at a time) and waits until all ended; wall time from the first. */
  batch(url: string, body: string, n: number, parallel: number): Promise<BatchResult>;
  load(options: LoadOptions): Promise<LoadFigures>;
  /**
   * Creates n runs of a pipeline (JSON) under a key prefix, through the API's write path
   * (`RunStore.create`) without HTTP, from the client's process: not in sched's heap.
   */
  store(prefix: string, pipeline: string, n: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startClient(redisUrl: string, statusIndexPrefix: string): Promise<Client> {
  const child = endsWithThisProcess(
    fork(fileURLToPath(new URL('./client.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, REDIS_URL: redisUrl, STATUS_INDEX_PREFIX: statusIndexPrefix },
    }),
  );
  const pending = new Map<number, { done: (v: unknown) => void; fail: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.on('message', (m: ClientReply) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if ('error' in m) p?.fail(new Error(`bench client: ${m.error}`));
    else p?.done(m.result);
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.fail(new Error(`bench client exited (${code})`));
  });
  const request = <T>(m: ClientOp) =>
    new Promise<T>((done, fail) => {
      const id = nextId++;
      pending.set(id, { done: done as (v: unknown) => void, fail });
      child.send({ ...m, id });
    });
  // The child answers id 0 once it is ready.
  await new Promise((done, fail) => pending.set(0, { done, fail }));
  return {
    pid: child.pid ?? 0,
    batch: (url, body, n, parallel) => request({ op: 'batch', url, body, n, parallel }),
    load: (options) => request({ op: 'load', options }),
    store: (prefix, pipeline, n) => request({ op: 'store', prefix, pipeline, n }),
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}
