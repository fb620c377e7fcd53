/**
 * A worker re-attaching to an attempt's running Job, against the simulator: the pod's log is read
 * on from the position recorded with the last line its predecessor recorded, so that, with what the
 * predecessor recorded, every line is there exactly once, including lines the predecessor had
 * received but not recorded when it stopped. And the log store keeping that position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRequest } from '../src/executors/executor.ts';
import { WORKER_SHUTDOWN_REASON } from '../src/executors/kubernetes/executor.ts';
import { makeKeys } from '../src/store/keys.ts';
import { LogStore } from '../src/store/logs.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { jobLines, notes, SimHarness, type Logged } from './kube-sim/harness.ts';

let h: SimHarness;
let redis: TestRedis;
beforeAll(async () => {
  [h, redis] = await Promise.all([SimHarness.start(), startRedis()]);
});
afterAll(() => Promise.all([h.stop(), redis.stop()]));

/** 60 numbered lines, 20 a second: many share a second, and some come while no worker reads. */
const COUNT = 60;
const script = `i=0; while [ $i -lt ${COUNT} ]; do i=$((i+1)); echo "line $i"; sleep 0.05; done`;
const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

/** Starts the attempt and stops following it, as a worker shutting down, once `line` is logged. */
async function detachAfter(request: ExecutionRequest, line: string): Promise<Logged[]> {
  const run = h.start(request);
  await run.logged(line);
  run.controller.abort(WORKER_SHUTDOWN_REASON);
  expect(await run.result).toMatchObject({ reason: WORKER_SHUTDOWN_REASON });
  return run.logs;
}

describe('kubernetes executor: re-attaching resumes the log where it was recorded', () => {
  it('records every line exactly once, including those received but not recorded before', async () => {
    const request = h.request(script);
    const received = await detachAfter(request, 'line 8');
    // It stopped with its last lines still buffered: only up to line 5 were recorded.
    const recorded = received.slice(0, received.findIndex((l) => l.line === 'line 5') + 1);
    const position = recorded.at(-1)?.position;
    expect(position).toMatch(
      /^chainr-job-1-[0-9a-f]{16}-\S+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [1-9]\d*$/,
    );

    const next = h.start(request, h.executor(), () => Promise.resolve(position));
    expect(await next.result).toEqual({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
    expect([...jobLines(recorded), ...jobLines(next.logs)]).toEqual(numbered(1, COUNT));
    expect(notes(next.logs)).toEqual([
      `chainr: re-attached to the running Kubernetes Job default/${h.jobName(request)}`,
    ]);
    expect(h.sim.jobsCreated(h.jobName(request))).toBe(1);
  });

  it("reads the whole log when the recorded position is an earlier attempt's", async () => {
    const earlier = h.request('echo done');
    const ended = h.start(earlier);
    await ended.result;
    const position = ended.logs.find((l) => l.line === 'done')?.position;
    expect(position).toBeDefined();
    const request = { ...earlier, run: script, attempt: 2 };
    await detachAfter(request, 'line 1');
    const next = h.start(request, h.executor(), () => Promise.resolve(position));
    expect(await next.result).toMatchObject({ status: 'SUCCESSFUL' });
    expect(jobLines(next.logs)).toEqual(numbered(1, COUNT));
  });

  it('reads the whole log, and says so, when where the recorded log ends cannot be read', async () => {
    const request = h.request(script);
    await detachAfter(request, 'line 1');
    const next = h.start(request, h.executor(), () =>
      Promise.reject(new Error('Connection is closed.')),
    );
    expect(await next.result).toMatchObject({ status: 'SUCCESSFUL' });
    expect(jobLines(next.logs)).toEqual(numbered(1, COUNT));
    expect(notes(next.logs)).toContain(
      'chainr: could not read where the recorded log ends (Error: Connection is closed.): reading it from the start',
    );
  });
});

describe('the log store: the position recorded with the line', () => {
  const line = (n: number, position?: string) => ({
    line: `line ${n}`,
    stream: 'stdout' as const,
    ...(position !== undefined && { position }),
  });

  it('is the newest one, even behind pages of lines without one', async () => {
    const logs = new LogStore(redis.client(), makeKeys('pos1:'), 10_000);
    expect(await logs.lastPosition('uid', 'job')).toBeUndefined();
    await logs.append('uid', 'job', [line(1, 'pod-a 2024-05-01T12:00:00Z 1'), line(2)]);
    await logs.append('uid', 'job', [line(3, 'pod-a 2024-05-01T12:00:01Z 1')]);
    await logs.append(
      'uid',
      'job',
      Array.from({ length: 250 }, (_, i) => line(4 + i)),
    );
    expect(await logs.lastPosition('uid', 'job')).toBe('pod-a 2024-05-01T12:00:01Z 1');
    // Readers see the lines as before.
    expect((await logs.readAll('uid', 'job')).slice(0, 3).map((l) => l.line)).toEqual([
      'line 1',
      'line 2',
      'line 3',
    ]);
  });

  it('stays exact when the cap has trimmed the stream', async () => {
    const logs = new LogStore(redis.client(), makeKeys('pos2:'), 100);
    for (let batch = 0; batch < 10; batch += 1)
      await logs.append(
        'uid',
        'job',
        Array.from({ length: 100 }, (_, i) =>
          line(batch * 100 + i + 1, `pod ${batch * 100 + i + 1}`),
        ),
      );
    expect((await logs.readAll('uid', 'job')).length).toBeLessThan(1000);
    expect(await logs.lastPosition('uid', 'job')).toBe('pod 1000');
  });
});
