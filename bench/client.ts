/**
 * The client side of the bench, in its own process (its CPU is reported apart from chainr's):
 * submits runs over HTTP (undici, the lightest of Node's HTTP clients) and counts them ending, or
 * offers requests at a fixed rate. Spoken to over IPC by client-link.ts.
 */
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import type { ClientReply, ClientRequest, LoadFigures, LoadOptions } from './client-link.ts';
import { planRun } from '../src/core/plan.ts';
import type { Pipeline } from '../src/core/types.ts';
import { makeKeys } from '../src/store/keys.ts';
import { RunStore } from '../src/store/runs.ts';
import { inParallel } from './batch.ts';
import { RunEnds } from './run-ends.ts';
import { percentile } from './stats.ts';

const watcher = new Redis(process.env.REDIS_URL ?? '', {
  maxRetriesPerRequest: null,
  connectionName: 'bench', // left out of the command counts
});
const ends = new RunEnds(watcher, process.env.STATUS_INDEX_PREFIX ?? '');

/** One request: resolves with the answer's status and body (a 10 s limit, as a client would set). */
async function send(
  pool: Pool,
  path: string,
  method: 'GET' | 'POST',
  body?: string,
): Promise<{ status: number; text: string }> {
  const res = await pool.request({
    path,
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Submissions' keep-alive connections, one pool per chainr. */
const pools = new Map<string, Pool>();

async function submit(url: string, body: string): Promise<string> {
  let pool = pools.get(url);
  if (!pool) pools.set(url, (pool = new Pool(url, { connections: 16 })));
  const { status, text } = await send(pool, '/api/runs', 'POST', body);
  if (status !== 202) throw new Error(`POST /api/runs answered ${status}: ${text}`);
  return (JSON.parse(text) as { metadata: { uid: string } }).metadata.uid;
}

async function batch(url: string, body: string, n: number, parallel: number) {
  const wait = await ends.mark();
  const t0 = performance.now();
  const uids: string[] = new Array<string>(n);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < n; i = next++) uids[i] = await submit(url, body);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, lane));
  const wall = (await wait(n)) - t0;
  return { wall_ms: wall, uids };
}

/**
 * Load at a fixed offered rate, open loop (as wrk2 does it): request i is due at start + i/rate
 * whatever became of the ones before, and is sent on one of at most `connections` keep-alive
 * connections (queued for one when all are busy). Its latency counts from when it was due, so
 * time spent waiting for a busy server is not omitted. (autocannon's rate option sends each
 * connection's quota for the second back to back and then pauses: bursts, not a rate.)
 */
async function load(o: LoadOptions): Promise<LoadFigures> {
  const url = new URL(o.url);
  const pool = new Pool(url.origin, { connections: o.connections });
  const total = Math.round(o.rate * o.durationS);
  const latencies: number[] = [];
  let errors = 0;
  const answers: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / o.rate;
    const early = due - performance.now();
    if (early >= 1) await new Promise((r) => setTimeout(r, early));
    answers.push(
      send(pool, url.pathname + url.search, o.method, o.body).then(
        ({ status }) => {
          if (status >= 200 && status < 300) latencies.push(performance.now() - due);
          else errors += 1;
        },
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(answers);
  const elapsedS = (performance.now() - start) / 1000;
  await pool.destroy();
  return {
    latency_p50_ms: percentile(latencies, 50),
    latency_p99_ms: percentile(latencies, 99),
    latency_max_ms: Math.max(...latencies),
    achieved_per_s: latencies.length / elapsedS,
    requests: total,
    errors,
  };
}

/** Runs stored as sched would create them, 64 at a time, keeping nothing of each. */
async function store(prefix: string, pipeline: string, n: number): Promise<void> {
  const runs = new RunStore(watcher, makeKeys(prefix), 100_000);
  const plan = planRun(JSON.parse(pipeline) as Pipeline, {}, { defaultExecutor: 'noop' });
  await inParallel(n, 64, async () => {
    await runs.create(plan, Date.now());
  });
}

process.on('message', (m: ClientRequest) => {
  const work =
    m.op === 'batch'
      ? batch(m.url, m.body, m.n, m.parallel)
      : m.op === 'load'
        ? load(m.options)
        : store(m.prefix, m.pipeline, m.n);
  work.then(
    (result) => process.send?.({ id: m.id, result } satisfies ClientReply),
    (err: unknown) => process.send?.({ id: m.id, error: String(err) } satisfies ClientReply),
  );
});
process.once('disconnect', () => {
  watcher.disconnect();
  for (const pool of pools.values()) void pool.destroy();
  process.exit(0);
});
process.send?.({ id: 0, result: 'ready' } satisfies ClientReply);
