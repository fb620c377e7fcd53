/**
 * The client side of the bench, in its own process so that its CPU is not counted as chainr's:
 * submits runs over HTTP and watches them end on the event stream, or drives autocannon. Spoken to
 * over IPC by client-link.ts.
 */
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import type { ClientReply, ClientRequest, LoadFigures, LoadOptions } from './client-link.ts';
import { RunEnds } from './run-ends.ts';
import { percentile } from './stats.ts';

interface Tracker extends PromiseLike<AutocannonResult> {
  on(
    event: 'response',
    listener: (client: unknown, status: number, bytes: number, ms: number) => void,
  ): void;
}
interface AutocannonResult {
  requests: { total: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: object) => Tracker;

const watcher = new Redis(process.env.REDIS_URL ?? '', {
  maxRetriesPerRequest: null,
  connectionName: 'bench', // left out of the command counts
});
const ends = new RunEnds(watcher, process.env.EVENTS_KEY ?? '');

async function submit(url: string, body: string): Promise<string> {
  const res = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /api/runs answered ${res.status}: ${text}`);
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

/** autocannon at a fixed offered rate; latencies taken from every response (sub-ms). */
async function load(o: LoadOptions): Promise<LoadFigures> {
  const latencies: number[] = [];
  const tracker = autocannon({
    url: o.url,
    method: o.method,
    connections: o.connections,
    overallRate: o.rate,
    duration: o.durationS,
    ...(o.body !== undefined && { body: o.body, headers: { 'content-type': 'application/json' } }),
  });
  tracker.on('response', (_c, status, _b, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const r = await tracker;
  return {
    latency_p50_ms: percentile(latencies, 50),
    latency_p99_ms: percentile(latencies, 99),
    latency_max_ms: Math.max(...latencies),
    achieved_per_s: r.requests.total / r.duration,
    requests: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

process.on('message', (m: ClientRequest) => {
  const work = m.op === 'batch' ? batch(m.url, m.body, m.n, m.parallel) : load(m.options);
  work.then(
    (result) => process.send?.({ id: m.id, result } satisfies ClientReply),
    (err: unknown) => process.send?.({ id: m.id, error: String(err) } satisfies ClientReply),
  );
});
process.once('disconnect', () => {
  watcher.disconnect();
  process.exit(0);
});
process.send?.({ id: 0, result: 'ready' } satisfies ClientReply);
