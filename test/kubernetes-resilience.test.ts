/**
 * The kubernetes executor through API server trouble, against the simulator: watches that expire
 * (410) or close, an API server restart mid-job, an unreachable API server at create, a create
 * whose answer is lost. In every case: one Job, every log line exactly once, the right result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobLines, SimHarness } from './kube-sim/harness.ts';
import { statuses } from './kube-sim/status.ts';

let h: SimHarness;
beforeAll(async () => {
  h = await SimHarness.start();
});
afterAll(() => h.stop());

/** A job that logs `one`, waits for the test to act, then logs more and exits 5. */
const script = 'echo one; sleep 1; echo two; sleep 0.3; echo three; exit 5';

const watchesOf = (name: string) =>
  h.sim.requests.filter(
    (r) => r.verb === 'watch' && r.resource === 'jobs' && r.query.includes(name),
  );
const listsOf = (name: string) =>
  h.sim.requests.filter(
    (r) => r.verb === 'list' && r.resource === 'jobs' && r.query.includes(name),
  );

describe('kubernetes executor under API server trouble', () => {
  it('relists and carries on when its watches expire (410 Gone)', async () => {
    const request = h.request(script);
    const name = h.jobName(request);
    const run = h.start(request);
    await run.logged('one');
    h.sim.expireWatches();
    expect(await run.result).toEqual({ status: 'FAILED', exitCode: 5, reason: 'exit code 5' });
    expect(jobLines(run.logs)).toEqual(['one', 'two', 'three']);
    expect(listsOf(name).length).toBeGreaterThanOrEqual(2);
    expect(h.sim.jobsCreated(name)).toBe(1);
  });

  it('relists when a watch request itself is answered 410 Gone', async () => {
    const request = h.request(script);
    const name = h.jobName(request);
    const run = h.start(request);
    await run.logged('one');
    h.sim.faults.inject({ verb: 'watch', resource: 'jobs' }, { status: statuses.expired('1', 2) });
    h.sim.closeWatches();
    expect(await run.result).toMatchObject({ status: 'FAILED', exitCode: 5 });
    expect(jobLines(run.logs)).toEqual(['one', 'two', 'three']);
    expect(listsOf(name).length).toBeGreaterThanOrEqual(2);
    const gone = h.sim.requests.filter((r) => r.verb === 'watch' && r.status === 410);
    expect(gone.length).toBeGreaterThanOrEqual(1);
  });

  it('resumes a closed watch from the last resourceVersion it saw', async () => {
    const request = h.request(script);
    const name = h.jobName(request);
    const run = h.start(request);
    await run.logged('one');
    h.sim.closeWatches();
    expect(await run.result).toMatchObject({ status: 'FAILED', exitCode: 5 });
    const rv = (query = '') => Number(/resourceVersion=(\d+)/.exec(query)?.[1] ?? NaN);
    const [first, second] = watchesOf(name);
    expect(rv(second?.query)).toBeGreaterThanOrEqual(rv(first?.query));
    expect(listsOf(name)).toHaveLength(1); // no relist was needed
  });

  it('survives an API server restart mid-job: no line lost or repeated, one Job', async () => {
    const request = h.request(script);
    const name = h.jobName(request);
    const run = h.start(request);
    await run.logged('one');
    await h.sim.restart({ downMs: 700 });
    expect(await run.result).toEqual({ status: 'FAILED', exitCode: 5, reason: 'exit code 5' });
    expect(jobLines(run.logs)).toEqual(['one', 'two', 'three']);
    expect(h.sim.jobsCreated(name)).toBe(1);
  });

  it('survives a restart that also loses the watch history (relist after 410)', async () => {
    const request = h.request(script);
    const run = h.start(request);
    await run.logged('one');
    await h.sim.restart({ downMs: 300, compact: true });
    expect(await run.result).toMatchObject({ status: 'FAILED', exitCode: 5 });
    expect(jobLines(run.logs)).toEqual(['one', 'two', 'three']);
  });

  it('waits for an unreachable API server instead of failing the job', async () => {
    const restarting = h.sim.restart({ downMs: 1200 });
    const request = h.request('echo hello');
    const run = h.start(request);
    await restarting;
    expect(await run.result).toEqual({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
    expect(jobLines(run.logs)).toEqual(['hello']);
    expect(h.sim.jobsCreated(h.jobName(request))).toBe(1);
  });

  it('retries a create answered 503, and 429', async () => {
    h.sim.faults.inject(
      { verb: 'create', resource: 'jobs' },
      { status: statuses.unavailable('etcd leader changed') },
    );
    h.sim.faults.inject(
      { verb: 'create', resource: 'jobs' },
      { status: statuses.tooManyRequests() },
    );
    const request = h.request('echo hello');
    expect(await h.start(request).result).toMatchObject({ status: 'SUCCESSFUL' });
    const creates = h.sim.requests.filter((r) => r.verb === 'create' && r.status !== undefined);
    expect(creates.slice(-3).map((r) => r.status)).toEqual([503, 429, 201]);
  });

  it('re-attaches when the answer to its create was lost (409 on the retry): still one Job', async () => {
    h.sim.faults.inject({ verb: 'create', resource: 'jobs' }, { dropAfterApply: true });
    const request = h.request('echo hello; exit 2');
    const name = h.jobName(request);
    const run = h.start(request);
    expect(await run.result).toEqual({ status: 'FAILED', exitCode: 2, reason: 'exit code 2' });
    expect(jobLines(run.logs)).toEqual(['hello']);
    expect(h.sim.jobsCreated(name)).toBe(1);
    const answers = h.sim.requests.filter((r) => r.verb === 'create' && r.path.endsWith('/jobs'));
    expect(answers.slice(-2).map((r) => r.status)).toEqual([201, 409]);
  });
});
