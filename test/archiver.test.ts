/**
 * The archiver (recycle) and the API over live and archived runs, the same suite on a real SQLite
 * file and on a real PostgreSQL server: an ended run moves to the archive and leaves nothing
 * behind in Redis, the API shows it as it showed it live, several recyclers at once archive each
 * run once, and a list read page by page while runs move shows each run once.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../src/archive/open.ts';
import type { ArchiveRetention, ArchiveStore } from '../src/archive/store.ts';
import type { Recycler } from '../src/services/recycle/service.ts';
import { makeKeys, type Keys } from '../src/store/keys.ts';
import { LogStore } from '../src/store/logs.ts';
import { RunStore } from '../src/store/runs.ts';
import { submit, waitForEnd } from './fixtures/api.ts';
import { ARCHIVE_BACKENDS, type ArchiveBackend } from './fixtures/archive-backends.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { testRecycler } from './fixtures/recycler.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

interface Deployment {
  api: Harness;
  keys: Keys;
  /** What recycle writes to (its own connection, as in `chainr recycle`). */
  written: ArchiveStore;
  recycler(options?: {
    windowMs?: number;
    perCycle?: number;
    retentionMs?: number;
    retention?: ArchiveRetention;
  }): Recycler;
  stop(): Promise<void>;
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
};
const json = async <T>(url: string): Promise<T> => JSON.parse((await get(url)).text) as T;
const post = async (url: string) => {
  const res = await fetch(url, { method: 'POST' });
  return { status: res.status, body: (await res.json()) as { error?: string } };
};

interface ListPage {
  items: { metadata: { uid: string } }[];
  metadata: { continue?: string };
}

/** Every uid of a list, page by page; `between` runs while each page is read. */
async function listAll(
  base: string,
  query: string,
  between: () => Promise<unknown> = () => Promise.resolve(),
): Promise<string[]> {
  const uids: string[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const url = `${base}/api/runs?${query}${token ? `&continue=${token}` : ''}`;
    const [page] = await Promise.all([json<ListPage>(url), between()]);
    uids.push(...page.items.map((r) => r.metadata.uid));
    token = page.metadata.continue;
    if (token === undefined) return uids;
  }
  throw new Error('the list did not end');
}

describe.each(ARCHIVE_BACKENDS)('archived runs on $name', ({ start }) => {
  let backend: ArchiveBackend;
  const deployments: Deployment[] = [];

  beforeAll(async () => {
    backend = await start();
  });
  afterAll(async () => {
    await Promise.all(deployments.map((d) => d.stop()));
    await backend?.stop();
  });

  /** sched and work with an archive, and recyclers archiving into it: one deployment. */
  async function deploy(): Promise<Deployment> {
    const config = await backend.config();
    const read = await openArchive(config);
    const written = await openArchive(config);
    const api = await startInProcess(redis.url, { archive: read });
    const keys = makeKeys(api.prefix);
    const recyclers: Recycler[] = [];
    const deployment: Deployment = {
      api,
      keys,
      written,
      recycler({ windowMs = 0, perCycle = 10_000, retentionMs = 0, retention } = {}) {
        const recycler = testRecycler(redis.client(), redis.url, keys, {
          retentionMs,
          archive: { archive: written, windowMs, perCycle, ...(retention && { retention }) },
        });
        recyclers.push(recycler);
        return recycler;
      },
      async stop() {
        await Promise.all(recyclers.map((r) => r.close()));
        await api.stop();
        await read.close();
        await written.close();
      },
    };
    deployments.push(deployment);
    return deployment;
  }

  /** The keys in Redis that name the run, and the indexes that still list it. */
  async function leftInRedis(keys: Keys, uid: string): Promise<string[]> {
    const client = redis.client();
    const named = await client.keys(`${keys.prefix}*${uid}*`);
    const indexes = (await client.keys(`${keys.prefix}runs*`)).filter(
      (k) => !k.startsWith(keys.bullPrefix),
    );
    const listing: string[] = [];
    for (const index of indexes)
      if ((await client.zscore(index, uid)) !== null) listing.push(index);
    return [...named, ...listing];
  }

  it('moves an ended run out of Redis, and the API shows it, its logs and events as before', async () => {
    const d = await deploy();
    const base = d.api.url;
    const run = await submit(base, {
      kind: 'Pipeline',
      metadata: { name: 'nightly', labels: { team: 'data' } },
      jobs: {
        extract: { image: 'busybox', run: 'echo "rows: 3"; echo "é ✓" >&2' },
        load: { image: 'busybox', run: 'echo loading; exit 4', dependsOn: [{ job: 'extract' }] },
      },
    });
    const uid = run.metadata.uid;
    await waitForEnd(base, uid);
    const urls = [
      `/api/runs/${uid}`,
      `/api/runs/${uid}/jobs/extract/logs`,
      `/api/runs/${uid}/jobs/load/logs`,
      `/api/runs/${uid}/jobs/extract/logs?follow=true`,
      `/api/runs/${uid}/jobs/load/logs?attempt=1`,
      `/api/runs/${uid}/jobs/extract/artifacts`,
      `/api/runs?name=nightly`,
      `/api/runs?selector=team=data`,
      `/api/runs?status=FAILED`,
      `/api/runs?uid=${uid.slice(-8)}`,
      `/api/runs/counts`,
    ];
    const live = await Promise.all(urls.map((u) => get(`${base}${u}`)));
    const liveEvents = await get(`${base}/api/runs/${uid}/events`);

    const report = await d.recycler().cycle();
    expect(report.archived).toBe(1);
    expect(await leftInRedis(d.keys, uid)).toEqual([]);
    expect(await d.written.get(uid)).toMatchObject({ uid, status: 'FAILED' });

    const archived = await Promise.all(urls.map((u) => get(`${base}${u}`)));
    expect(archived).toEqual(live);
    expect(archived[1]?.text).toBe('rows: 3\né ✓\n');
    expect(JSON.parse(archived[6]?.text ?? '')).toMatchObject({ items: [{ metadata: { uid } }] });
    // The event stream of an ended run: its snapshot, then its end.
    const events = await get(`${base}/api/runs/${uid}/events`);
    expect(events.text).toBe(liveEvents.text);
    expect(events.text).toMatch(
      /\nevent: run\n[\s\S]*\nevent: end\ndata: {"uid":"[^"]+","status":"FAILED"}/,
    );

    // Cancel answers as for an ended run; retry in place needs Redis: resubmit is the way.
    expect(await post(`${base}/api/runs/${uid}/cancel`)).toEqual({
      status: 409,
      body: { kind: 'Error', error: `run ${uid} already ended (FAILED)` },
    });
    const retry = await post(`${base}/api/runs/${uid}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error).toContain(`POST /api/runs/${uid}/resubmit`);
    const again = await post(`${base}/api/runs/${uid}/resubmit`);
    expect(again.status).toBe(202);
    const next = (again.body as unknown as { metadata: { uid: string; labels: object } }).metadata;
    expect(next.labels).toEqual({ team: 'data' });
    expect((await waitForEnd(base, next.uid)).status).toBe('FAILED');
  });

  it('goes on from the archive when a followed log moves there between two pages of Redis', async () => {
    const d = await deploy();
    const run = await submit(d.api.url, {
      kind: 'Pipeline',
      jobs: { a: { image: 'x', run: 'true' } },
    });
    const uid = run.metadata.uid;
    await waitForEnd(d.api.url, uid);
    // 25,000 lines of 500 bytes: three pages of Redis (10,000 lines each), the first of 5 MB.
    const lines = Array.from(
      { length: 25_000 },
      (_, i) => `${String(i).padStart(6, '0')} ${'x'.repeat(493)}`,
    );
    const logs = new LogStore(redis.client(), d.keys, lines.length);
    for (let i = 0; i < lines.length; i += 1000)
      await logs.append(
        uid,
        'a',
        lines.slice(i, i + 1000).map((line) => ({ line, stream: 'stdout' as const })),
      );

    // A reader that reads nothing yet: its socket takes about 4 MB (the kernel's buffers, not
    // grown while nothing is read), so sched waits for it within the first page. HTTP/1.0: the
    // answer is the text itself, up to the end of the connection.
    const { port } = new URL(d.api.url);
    const reader = connect(Number(port), '127.0.0.1');
    reader.pause();
    reader.write(`GET /api/runs/${uid}/jobs/a/logs?follow=true HTTP/1.0\r\nHost: chainr\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await d.recycler().cycle()).archived).toBe(1);
    expect(await leftInRedis(d.keys, uid)).toEqual([]);
    const chunks: Buffer[] = [];
    reader.on('data', (chunk: Buffer) => chunks.push(chunk));
    reader.resume();
    await once(reader, 'end');
    const answer = Buffer.concat(chunks).toString('utf8');
    expect(answer.slice(0, answer.indexOf('\r\n'))).toBe('HTTP/1.1 200 OK');
    expect(answer.slice(answer.indexOf('\r\n\r\n') + 4)).toBe(`${lines.join('\n')}\n`);
  });

  it('keeps a run in Redis until the window has passed, whatever the retention', async () => {
    const d = await deploy();
    const run = await submit(d.api.url, {
      kind: 'Pipeline',
      jobs: { a: { image: 'x', run: 'true' } },
    });
    await waitForEnd(d.api.url, run.metadata.uid);
    // Retention would have deleted it long ago: with an archive, runs leave Redis only archived.
    const report = await d
      .recycler({ windowMs: 3_600_000, retentionMs: 1 })
      .cycle(Date.now() + 1000);
    expect([report.archived, report.deleted]).toEqual([0, 0]);
    expect(await leftInRedis(d.keys, run.metadata.uid)).not.toEqual([]);
    const later = await d.recycler({ windowMs: 3_600_000 }).cycle(Date.now() + 3_601_000);
    expect(later.archived).toBe(1);
  });

  it('deletes runs from the archive by its retention, each status by its own rule', async () => {
    const d = await deploy();
    const ended = async (run: string) => {
      const submitted = await submit(d.api.url, {
        kind: 'Pipeline',
        jobs: { a: { image: 'x', run } },
      });
      await waitForEnd(d.api.url, submitted.metadata.uid);
      return submitted.metadata.uid;
    };
    const failed = await ended('exit 1');
    const successful = [await ended('true'), await ended('true'), await ended('true')];
    expect((await d.recycler().cycle()).archived).toBe(4);
    const hour = 3_600_000;
    // Failures kept a year, successes a day and at most the newest two.
    const retention = {
      FAILED: { maxAgeMs: 365 * 24 * hour },
      SUCCESSFUL: { maxAgeMs: 24 * hour, keep: 2 },
    };
    const first = await d.recycler({ retention }).cycle(Date.now() + hour);
    expect(first.archiveExpired).toBe(1);
    const status = async (uid: string) => (await get(`${d.api.url}/api/runs/${uid}`)).status;
    expect(await Promise.all([failed, ...successful].map(status))).toEqual([200, 404, 200, 200]);
    const later = await d.recycler({ retention }).cycle(Date.now() + 25 * hour);
    expect(later.archiveExpired).toBe(2);
    expect(await Promise.all([failed, ...successful].map(status))).toEqual([200, 404, 404, 404]);
  });

  it('leaves in Redis a run retried after it was read for the archive', async () => {
    const d = await deploy();
    const run = await submit(d.api.url, {
      kind: 'Pipeline',
      jobs: { a: { image: 'x', run: 'exit 1' } },
    });
    const uid = run.metadata.uid;
    await waitForEnd(d.api.url, uid);
    const runs = new RunStore(redis.client(), d.keys, 10_000);
    const read = await runs.get(uid);
    if (!read) throw new Error('no run');
    expect((await post(`${d.api.url}/api/runs/${uid}/retry`)).status).toBe(202);
    // What the archiver does with what it read: the deletion finds the run changed.
    expect(await runs.delete(read)).toBe(false);
    expect((await waitForEnd(d.api.url, uid)).jobs[0]?.status).toBe('FAILED');
    expect(await runs.get(uid)).toMatchObject({ jobs: [{ attempt: 2 }] });
  });

  it('archives each run once when several recyclers run at once', async () => {
    const d = await deploy();
    const uids = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const run = await submit(d.api.url, {
          kind: 'Pipeline',
          jobs: {
            a: { image: 'x', run: `echo ${i}` },
            b: { image: 'x', executor: 'noop', run: 'true' },
          },
        });
        return run.metadata.uid;
      }),
    );
    for (const uid of uids) await waitForEnd(d.api.url, uid);
    const recyclers = [d.recycler({ perCycle: 7 }), d.recycler({ perCycle: 7 }), d.recycler()];
    // Cycles overlapping until none finds anything left.
    for (let round = 0; round < 10; round++) {
      const reports = await Promise.all(recyclers.map((r) => r.cycle()));
      if (reports.every((r) => r.archived === 0)) break;
    }
    expect((await d.written.counts()).SUCCESSFUL).toBe(30);
    const listed = await listAll(d.api.url, 'limit=8');
    expect(listed).toEqual([...uids].sort().reverse());
    for (const uid of uids) expect(await leftInRedis(d.keys, uid)).toEqual([]);
  });

  it('lists every run once, page by page, while the archiver moves runs between the pages', async () => {
    const d = await deploy();
    const uids: string[] = [];
    for (let i = 0; i < 45; i++) {
      const run = await submit(d.api.url, {
        kind: 'Pipeline',
        metadata: { labels: { half: String(i % 2) } },
        jobs: { a: { image: 'x', executor: 'noop', run: 'true' } },
      });
      uids.push(run.metadata.uid);
    }
    for (const uid of uids) await waitForEnd(d.api.url, uid);
    const expected = [...uids].sort().reverse();
    // Some already archived, the oldest: a page starts in Redis and ends in the archive.
    await d.recycler({ perCycle: 10 }).cycle();
    const mover = d.recycler({ perCycle: 3 });
    expect(await listAll(d.api.url, 'limit=4', () => mover.cycle())).toEqual(expected);
    const odd = expected.filter((uid) => uids.indexOf(uid) % 2 === 1);
    expect(await listAll(d.api.url, 'limit=5&selector=half=1', () => mover.cycle())).toEqual(odd);
    // All moved by now: the same list, from the archive alone.
    while ((await mover.cycle()).archived > 0);
    expect(await listAll(d.api.url, 'limit=6')).toEqual(expected);
    expect(
      (await json<{ counts: { SUCCESSFUL: number } }>(`${d.api.url}/api/runs/counts`)).counts
        .SUCCESSFUL,
    ).toBe(45);
  });
});
