/**
 * Slow readers and slow writers, over real sockets to a real sched: a reader of the event stream
 * that stops reading is disconnected once its unsent bytes pass the bound (and counted), rather
 * than grow sched's memory with every event produced; it resumes with Last-Event-ID and gets
 * exactly what it missed, or a `gap` event once that is gone; a client that sends its headers or
 * body a byte at a time is cut off at its timeout while other requests are served.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { makeKeys } from '../src/store/keys.ts';
import { startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';

const PREFIX = 'slow:';
const keys = makeKeys(PREFIX);
const BUFFER_BYTES = 64 * 1024;
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/** What an event's reason is padded to: a few thousand events fill a socket's kernel buffers. */
const PADDING = 'x'.repeat(1000);
/** Paused readers, as many as grew sched by 100 MB before they were bounded. */
const READERS = 30;

let redis: TestRedis;
let admin: Redis;
let sched: ChainrProcess & { url: string };
let port: number;

beforeAll(async () => {
  redis = await startRedis();
  admin = redis.client();
  sched = await startHttpService(
    'sched',
    {
      REDIS_URL: redis.url,
      CHAINR_PREFIX: PREFIX,
      CHAINR_EXECUTORS: 'noop',
      CHAINR_EXECUTOR: 'noop',
      CHAINR_STREAM_BUFFER_BYTES: String(BUFFER_BYTES),
      CHAINR_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_MS}ms`,
      CHAINR_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms`,
    },
    { startTimeoutMs: 90_000 },
  );
  port = Number(new URL(sched.url).port);
}, 120_000);
afterAll(async () => {
  await sched?.kill('SIGKILL');
  await redis?.stop();
});

/** Appends `count` job transitions of run `uid` to the event stream, as the Lua scripts do. */
async function produce(uid: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let done = 0; done < count;) {
    const batch = admin.pipeline();
    const n = Math.min(500, count - done);
    for (let i = 0; i < n; i++)
      batch.xadd(
        keys.events,
        '*',
        'uid',
        uid,
        'job',
        `j${done + i}`,
        'status',
        'RUNNING',
        'reason',
        PADDING,
        'time',
        String(Date.now()),
      );
    for (const [err, id] of (await batch.exec()) ?? []) {
      if (err) throw err;
      ids.push(id as string);
    }
    done += n;
  }
  return ids;
}

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${sched.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

interface SseEvent {
  id?: string;
  event: string;
  data: { uid?: string; job?: string; after?: string; message?: string };
}

/** An event stream read with fetch, every event kept as it arrives. */
async function read(path: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(`${sched.url}${path}`, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  let ended = false;
  if (res.ok && res.body)
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end; (end = buffer.indexOf('\n\n')) >= 0;) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const field = (name: string) =>
              block
                .split('\n')
                .find((l) => l.startsWith(`${name}: `))
                ?.slice(name.length + 2);
            const data = field('data');
            if (data !== undefined)
              events.push({
                ...(field('id') !== undefined && { id: field('id') }),
                event: field('event') ?? 'message',
                data: JSON.parse(data) as SseEvent['data'],
              });
          }
        }
      } catch {
        // closed by the test
      }
      ended = true;
    })();
  return { res, events, ended: () => ended, close: () => abort.abort() };
}

/** A raw connection that sends `request`, waits for the answer's first bytes, then stops reading. */
async function pausedReader(request: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  socket.on('error', () => undefined);
  await new Promise<void>((answered) => {
    socket.once('data', () => {
      socket.pause();
      answered();
    });
    socket.write(request);
  });
  return { socket, closed };
}

/**
 * A reader that reads as fast as this process can, and resumes with Last-Event-ID whenever the
 * server closes its stream, as the UI does: what it collects is every event, once, in order.
 */
function resumingReader() {
  const events: SseEvent[] = [];
  let connections = 0;
  let stopped = false;
  let current: Awaited<ReturnType<typeof read>> | undefined;
  const loop = (async () => {
    while (!stopped) {
      const lastId = events[events.length - 1]?.id;
      current = await read('/api/events', lastId ? { 'last-event-id': lastId } : {});
      connections++;
      const stream = current;
      await until(() => stopped || stream.ended(), 'the stream to end', 600_000);
      events.push(...stream.events);
      current = undefined;
    }
  })();
  return {
    events: () => [...events, ...(current?.events ?? [])],
    connections: () => connections,
    async stop() {
      stopped = true;
      current?.close();
      await loop;
    },
  };
}

it('disconnects readers that stop reading once their buffer is full, and counts them; a reader that resumes gets every event once', async () => {
  const droppedBefore = await metric('chainr_sse_readers_dropped_total', '{stream="events"}');
  const paused = await Promise.all(
    Array.from({ length: READERS }, () =>
      pausedReader(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
    ),
  );
  const reader = resumingReader();
  const rssBefore = await metric('process_resident_memory_bytes');

  // 20,000 events of about 1 KB: 20 MB for each reader, far past a socket's kernel buffers.
  const uid = 'flood';
  const ids = await produce(uid, 20_000);
  await until(
    async () =>
      (await metric('chainr_sse_readers_dropped_total', '{stream="events"}')) - droppedBefore >=
      READERS,
    `the ${READERS} paused readers to be dropped`,
    60_000,
  );
  await until(
    () => reader.events().filter((e) => e.data.uid === uid).length >= ids.length,
    'the resuming reader to get every event',
    120_000,
  );
  const rssAfter = await metric('process_resident_memory_bytes');
  console.log(
    `sched's resident memory: ${(rssBefore / 2 ** 20).toFixed(1)} MiB before, ` +
      `${(rssAfter / 2 ** 20).toFixed(1)} MiB after 20 MB sent to ${READERS} paused readers; ` +
      `the reading reader connected ${reader.connections()} time(s)`,
  );
  await reader.stop();
  expect(
    reader
      .events()
      .filter((e) => e.data.uid === uid)
      .map((e) => e.id),
  ).toEqual(ids);
  // What the paused readers did not take is not kept: before they were bounded, sched grew by
  // about 600 MiB here (it holds every event sent to each); now by what producing and replaying
  // the events costs.
  expect(rssAfter - rssBefore).toBeLessThan(200 * 2 ** 20);

  // Read again, each paused reader finds its connection closed by the server.
  for (const { socket } of paused) socket.resume();
  await Promise.all(paused.map(({ closed }) => closed));
}, 120_000);

it('replays exactly the events a reader missed when it resumes with Last-Event-ID, and says when they are gone', async () => {
  const uid = 'resumed';
  const first = await read('/api/events');
  const before = await produce(uid, 3);
  await until(() => first.events.length >= 3, 'the first three events');
  first.close();
  expect(first.events.map((e) => e.id)).toEqual(before);

  // Missed while away: more than the buffer's bound holds, sent at the reader's pace.
  const missed = await produce(uid, 500);
  const resumed = await read('/api/events', { 'last-event-id': before[2] as string });
  expect(resumed.res.status).toBe(200);
  await until(() => resumed.events.length >= missed.length, 'the missed events');
  const live = await produce(uid, 2);
  await until(() => resumed.events.length >= missed.length + 2, 'the live events');
  await new Promise((r) => setTimeout(r, 200));
  expect(resumed.events.map((e) => e.id)).toEqual([...missed, ...live]);
  resumed.close();

  // Once trimmed away, the reader is told to list again, and the stream goes on.
  await admin.xtrim(keys.events, 'MAXLEN', 1);
  const late = await read('/api/events', { 'last-event-id': before[2] as string });
  expect(late.res.status).toBe(200);
  await until(() => late.events.length >= 1, 'the gap event');
  const after = await produce(uid, 1);
  await until(() => late.events.length >= 2, 'the event after the gap');
  expect(late.events).toEqual([
    {
      event: 'gap',
      data: {
        after: before[2],
        message: `the events after ${before[2]} are no longer held: list the runs again (GET /api/runs); the events that follow are those written since`,
      },
    },
    expect.objectContaining({ id: after[0], event: 'job' }),
  ]);
  late.close();

  const bad = await fetch(`${sched.url}/api/events`, { headers: { 'last-event-id': 'yesterday' } });
  expect(bad.status).toBe(400);
  expect(await bad.text()).toContain('last-event-id');
}, 60_000);

/** Sends `head` then `trickle` a byte a second; resolves with the time the server closed it and what it answered. */
function trickle(head: string, trickled: string) {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  socket.on('error', () => undefined);
  socket.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < trickled.length && !socket.destroyed) socket.write(trickled[sent++] as string);
  }, 1000);
  return new Promise<{ afterMs: number; answer: string }>((done) =>
    socket.once('close', () => {
      clearInterval(timer);
      done({ afterMs: Date.now() - started, answer });
    }),
  );
}

it('cuts off clients that send their headers or body a byte a second, while serving the others', async () => {
  const body = JSON.stringify({ kind: 'Pipeline', jobs: { a: { image: 'alpine', run: 'true' } } });
  const slowBody = trickle(
    `POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`,
    body,
  );
  const slowHeaders = trickle(
    'GET /api/runs HTTP/1.1\r\n',
    `Host: 127.0.0.1:${port}\r\nX-Slow: ${'y'.repeat(100)}\r\n\r\n`,
  );
  // A connection that sends nothing at all is held to the headers' timeout too.
  const silent = trickle('', '');
  // Meanwhile the API answers others at once.
  const served: number[] = [];
  const serving = (async () => {
    for (let i = 0; i < 10; i++) {
      const started = Date.now();
      expect((await fetch(`${sched.url}/api/runs`)).status).toBe(200);
      served.push(Date.now() - started);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const [bodyCut, headersCut, silentCut] = await Promise.all([slowBody, slowHeaders, silent]);
  await serving;
  console.log(
    `trickled body cut after ${bodyCut.afterMs} ms, trickled headers after ${headersCut.afterMs} ms, ` +
      `a silent connection after ${silentCut.afterMs} ms; ` +
      `other requests answered in at most ${Math.max(...served)} ms`,
  );
  // Each within its timeout and Node's check of it (every second), on a machine under load.
  expect(bodyCut.afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
  expect(bodyCut.afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3000);
  expect(bodyCut.answer).toMatch(/^HTTP\/1\.1 408 /);
  expect(headersCut.afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS);
  expect(headersCut.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 3000);
  expect(headersCut.answer).toMatch(/^HTTP\/1\.1 408 /);
  expect(silentCut.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 3000);
  expect(Math.max(...served)).toBeLessThan(1000);
}, 60_000);
