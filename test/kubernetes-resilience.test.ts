/**
 * The kubernetes executor through API server trouble, against the simulator: watches that expire
 * (410) or close, an API server restart mid-job, an unreachable API server at create, a create
 * whose answer is lost. In every case: one Job, every log line exactly once, the right result.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectKubernetes } from '../src/executors/kubernetes/client.ts';
import { KubernetesExecutor } from '../src/executors/kubernetes/executor.ts';
import { FAST_TIMING, jobLines, SimHarness } from './kube-sim/harness.ts';
import { statuses } from './kube-sim/status.ts';

let h: SimHarness;
beforeAll(async () => {
  h = await SimHarness.start();
});
afterAll(() => h.stop());

/** A job that logs `one`, waits for the test to act, then logs more and exits 5. */
const script = 'echo one; sleep 1; echo two; sleep 0.3; echo three; exit 5';

/** The requests of one test (its executor's watches close when its attempt ends: FAST_TIMING). */
let firstRequest = 0;
beforeEach(async () => {
  await new Promise((r) => setTimeout(r, 300)); // the previous test's watches closed
  firstRequest = h.sim.requests.length;
});
const ofJobs = (verb: string) =>
  h.sim.requests
    .slice(firstRequest)
    .filter((r) => r.verb === verb && r.resource === 'jobs' && r.query.includes('managed-by'));
const watchesOf = () => ofJobs('watch');
const listsOf = () => ofJobs('list');

describe('kubernetes executor under API server trouble', () => {
  it('relists and carries on when its watches expire (410 Gone)', async () => {
    const request = h.request(script);
    const name = h.jobName(request);
    const run = h.start(request);
    await run.logged('one');
    h.sim.expireWatches();
    expect(await run.result).toEqual({ status: 'FAILED', exitCode: 5, reason: 'exit code 5' });
    expect(jobLines(run.logs)).toEqual(['one', 'two', 'three']);
    expect(listsOf().length).toBeGreaterThanOrEqual(2);
    expect(h.sim.jobsCreated(name)).toBe(1);
  });

  it('relists when a watch request itself is answered 410 Gone', async () => {
    const request = h.request(script);
    const run = h.start(request);
    await run.logged('one');
    h.sim.faults.inject({ verb: 'watch', resource: 'jobs' }, { status: statuses.expired('1', 2) });
    h.sim.closeWatches();
    expect(await run.result).toMatchObject({ status: 'FAILED', exitCode: 5 });
    expect(jobLines(run.logs)).toEqual(['one', 'two', 'three']);
    expect(listsOf().length).toBeGreaterThanOrEqual(2);
    const gone = h.sim.requests.filter((r) => r.verb === 'watch' && r.status === 410);
    expect(gone.length).toBeGreaterThanOrEqual(1);
  });

  it('resumes a closed watch from the last resourceVersion it saw', async () => {
    const request = h.request(script);
    const run = h.start(request);
    await run.logged('one');
    h.sim.closeWatches();
    expect(await run.result).toMatchObject({ status: 'FAILED', exitCode: 5 });
    const rv = (query = '') => Number(/resourceVersion=(\d+)/.exec(query)?.[1] ?? NaN);
    const [first, second] = watchesOf();
    expect(rv(second?.query)).toBeGreaterThanOrEqual(rv(first?.query));
    expect(listsOf()).toHaveLength(1); // no relist was needed
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

describe('a good citizen of the API server', () => {
  it("waits out an API Priority and Fairness rejection's Retry-After before sending anything more", async () => {
    h.sim.faults.inject(
      { verb: 'create', resource: 'jobs' },
      {
        status: statuses.flowControlRejected(),
        headers: {
          'retry-after': '1',
          'x-kubernetes-pf-flowschema-uid': 'flow',
          'x-kubernetes-pf-prioritylevel-uid': 'level',
        },
      },
    );
    const request = h.request('echo hello');
    const run = h.start(request);
    expect(await run.result).toEqual({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
    const seen = h.sim.requests.slice(firstRequest);
    const rejected = seen.find((r) => r.status === 429);
    const next = seen[seen.indexOf(rejected as (typeof seen)[number]) + 1];
    expect(rejected).toBeDefined();
    // Not one request, of any kind, within the second the server asked for.
    expect((next?.at ?? 0) - (rejected?.at ?? 0)).toBeGreaterThanOrEqual(990);
    expect(h.sim.jobsCreated(h.jobName(request))).toBe(1);
  });

  it('keeps to its configured QPS once the burst is spent', async () => {
    const client = connectKubernetes({
      kubeconfigPaths: [h.sim.writeKubeconfig()],
      rateLimits: { qps: 5, burst: 1 },
    });
    const executor = new KubernetesExecutor({ client, timing: FAST_TIMING });
    const runs = [1, 2, 3].map((i) => h.start(h.request(`echo ${i}`), executor));
    for (const run of runs) expect(await run.result).toMatchObject({ status: 'SUCCESSFUL' });
    await executor.close();
    const times = h.sim.requests.slice(firstRequest).map((r) => r.at);
    expect(times.length).toBeGreaterThanOrEqual(8); // 2 lists, 2 watches, 3 creates, 3 logs
    // Each request waited for its token, 200 ms after the one before: whatever the delays on the
    // way, the last cannot arrive sooner than that after the first (less the first's own delay).
    const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
    expect(span).toBeGreaterThanOrEqual((times.length - 1) * 200 - 100);
    expect(client.limiter.counts.requests).toMatchObject({ create: 3 });
  });
});
