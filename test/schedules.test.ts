/** Cron schedules through the API: runs created on time, pause/resume/delete, no catch-up burst. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let redis: TestRedis;
let api: Harness;

beforeAll(async () => {
  redis = await startRedis();
  api = await startInProcess(redis.url);
});
afterAll(async () => {
  await api.stop();
  await redis.stop();
});

const pipeline = {
  kind: 'Pipeline',
  params: { who: { default: 'world' } },
  jobs: { hello: { image: 'busybox', run: 'echo hello "$CHAINR_PARAM_WHO"' } },
};

interface ScheduleBody {
  kind: string;
  metadata: { uid: string; name?: string };
  cron: string;
  timezone: string;
  paused: boolean;
  nextRunAt?: string;
  nextRunsAt?: string[];
  lastRun?: { uid: string; status: string; creationTimestamp: string };
}

async function post(path: string, body?: unknown) {
  return fetch(`${api.url}${path}`, {
    method: 'POST',
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
}

async function runsOf(base: string, id: string) {
  const res = await fetch(
    `${base}/api/runs?limit=500&selector=${encodeURIComponent(`chainr.io/schedule=${id}`)}`,
  );
  return (
    (await res.json()) as {
      items: { metadata: { uid: string }; params: Record<string, string>; createdAt: string }[];
    }
  ).items;
}

async function waitFor<T>(
  what: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('schedules', () => {
  it('fires every second, creating labelled runs with the schedule params, until paused', async () => {
    const res = await post('/api/schedules', {
      name: 'every-second',
      cron: '* * * * * *',
      timezone: 'Europe/Paris',
      pipeline,
      params: { who: 'cron' },
    });
    expect(res.status).toBe(201);
    const schedule = (await res.json()) as ScheduleBody;
    expect(schedule).toMatchObject({
      kind: 'Schedule',
      cron: '* * * * * *',
      timezone: 'Europe/Paris',
      paused: false,
    });
    expect(Date.parse(schedule.nextRunAt ?? '')).toBeGreaterThan(Date.now() - 1000);
    const id = schedule.metadata.uid;

    const runs = await waitFor(
      () => runsOf(api.url, id),
      (r) => r.length >= 3,
    );
    expect(runs.every((r) => r.params.who === 'cron')).toBe(true);
    // The schedule names its newest run and its next three ticks, a second apart.
    const read = (await (await fetch(`${api.url}/api/schedules/${id}`)).json()) as ScheduleBody;
    // Ticks go on meanwhile: its last run is one of its runs, no older than the newest seen before.
    const uids = (await runsOf(api.url, id)).map((r) => r.metadata.uid);
    expect(uids).toContain(read.lastRun?.uid);
    expect((read.lastRun?.uid ?? '') >= (runs[0]?.metadata.uid ?? '~')).toBe(true);
    expect(read.lastRun?.status).toMatch(/^(PENDING|RUNNING|SUCCESSFUL)$/);
    const next = (read.nextRunsAt ?? []).map(Date.parse);
    expect(next).toHaveLength(3);
    expect(next[0]).toBe(Date.parse(read.nextRunAt ?? ''));
    expect([next[1]! - next[0]!, next[2]! - next[1]!]).toEqual([1000, 1000]);

    const paused = (await (await post(`/api/schedules/${id}/pause`)).json()) as ScheduleBody;
    expect(paused.paused).toBe(true);
    expect(paused.nextRunsAt).toBeUndefined();
    const atPause = (await runsOf(api.url, id)).length;
    await new Promise((r) => setTimeout(r, 2500));
    // A tick already being handled when the pause landed may still finish: at most one more.
    expect((await runsOf(api.url, id)).length).toBeLessThanOrEqual(atPause + 1);

    const settled = (await runsOf(api.url, id)).length;
    expect(
      ((await (await post(`/api/schedules/${id}/resume`)).json()) as ScheduleBody).paused,
    ).toBe(false);
    await waitFor(
      () => runsOf(api.url, id),
      (r) => r.length >= settled + 2,
    );

    const deleted = await fetch(`${api.url}/api/schedules/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await fetch(`${api.url}/api/schedules/${id}`)).status).toBe(404);
    const atDelete = (await runsOf(api.url, id)).length;
    await new Promise((r) => setTimeout(r, 2000));
    expect((await runsOf(api.url, id)).length).toBeLessThanOrEqual(atDelete + 1);
  });

  it('does not run missed ticks in a burst after everything was down', async () => {
    const first = await startInProcess(redis.url);
    const res = await fetch(`${first.url}/api/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cron: '* * * * * *', pipeline }),
    });
    const id = ((await res.json()) as ScheduleBody).metadata.uid;
    await waitFor(
      () => runsOf(first.url, id),
      (r) => r.length >= 1,
    );
    await first.stop();
    // Everything of that deployment is down for four ticks.
    await new Promise((r) => setTimeout(r, 4000));
    const restartedAt = Date.now();
    const second = await startInProcess(redis.url, { prefix: first.prefix });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const since = (await runsOf(second.url, id)).filter(
        (r) => Date.parse(r.createdAt) >= restartedAt,
      );
      const elapsedTicks = Math.ceil((Date.now() - restartedAt) / 1000);
      // The overdue tick runs once, then one per second; the four missed ones are not replayed.
      expect(since.length).toBeGreaterThanOrEqual(1);
      expect(since.length).toBeLessThanOrEqual(elapsedTicks + 1);
    } finally {
      await fetch(`${second.url}/api/schedules/${id}`, { method: 'DELETE' });
      await second.stop();
    }
  });

  it('refuses bad cron expressions, time zones and parameters with clear errors', async () => {
    const cases: [unknown, string][] = [
      [{ cron: 'every day', pipeline }, 'cron: "every day" is not a cron expression'],
      [
        { cron: '0 3 * * *', timezone: 'Mars/Olympus', pipeline },
        'timezone: unknown time zone "Mars/Olympus"',
      ],
      [{ pipeline }, 'cron: is required'],
      [{ cron: '0 3 * * *', pipeline, params: { nope: 'x' } }, 'params.nope: unknown parameter'],
      [
        { cron: '0 3 * * *', pipeline: { kind: 'Pipeline', jobs: {} } },
        'pipeline.jobs: must contain at least one job',
      ],
    ];
    for (const [body, message] of cases) {
      const res = await post('/api/schedules', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = (await res.json()) as { kind: string; error: string };
      expect(error.kind).toBe('Error');
      expect(error.error).toContain(message);
    }
    expect((await fetch(`${api.url}/api/schedules/not-an-id`)).status).toBe(404);
  });

  it('lists schedules newest first', async () => {
    const a = (await (
      await post('/api/schedules', { cron: '0 3 * * *', name: 'a', pipeline })
    ).json()) as ScheduleBody;
    const b = (await (
      await post('/api/schedules', { cron: '0 4 * * *', name: 'b', pipeline })
    ).json()) as ScheduleBody;
    const list = (await (await fetch(`${api.url}/api/schedules`)).json()) as {
      kind: string;
      items: ScheduleBody[];
    };
    expect(list.kind).toBe('ScheduleList');
    const ids = list.items.map((s) => s.metadata.uid);
    expect(ids.indexOf(b.metadata.uid)).toBeLessThan(ids.indexOf(a.metadata.uid));
  });
});
