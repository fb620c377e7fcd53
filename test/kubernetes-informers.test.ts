/**
 * The worker's shared informers, against the simulator: however many attempts one executor
 * follows, it holds one watch of Jobs and one of pods, lists each once, and reads the attempts'
 * Jobs and pods from its cache: an attempt costs its create and its log stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKubernetes } from '../src/executors/kubernetes/client.ts';
import { KubernetesExecutor } from '../src/executors/kubernetes/executor.ts';
import { registerKubernetesMetrics, workRegistry } from '../src/http/ops/metrics.ts';
import type { RequestRecord } from './kube-sim/simulator.ts';
import { FAST_TIMING, jobLines, SimHarness } from './kube-sim/harness.ts';

let h: SimHarness;
beforeAll(async () => {
  h = await SimHarness.start();
});
afterAll(() => h.stop());

const JOBS = 12;

/** Requests of one verb, on a resource (and subresource). */
const counter = (seen: RequestRecord[]) => (verb: string, resource: string, subresource?: string) =>
  seen.filter((r) => r.verb === verb && r.resource === resource && r.subresource === subresource)
    .length;

describe('shared informers', () => {
  it(`follows ${JOBS} concurrent attempts with one watch per kind, and two requests per attempt`, async () => {
    // The watches stay open until the metrics are read, however late that is.
    const executor = h.executor({ timing: { informerIdleMs: 60_000 } });
    const first = h.sim.requests.length;
    const requests = Array.from({ length: JOBS }, (_, i) =>
      h.request(`echo job ${i}; sleep 0.5; exit ${i % 3}`),
    );
    const runs = requests.map((r) => h.start(r, executor));
    const results = await Promise.all(runs.map((r) => r.result));
    results.forEach((result, i) => {
      expect(result).toMatchObject({ exitCode: i % 3 });
      expect(jobLines(runs[i]?.logs ?? [])).toEqual([`job ${i}`]);
    });
    const count = counter(h.sim.requests.slice(first));
    expect(count('watch', 'jobs')).toBe(1);
    expect(count('watch', 'pods')).toBe(1);
    expect(count('list', 'jobs')).toBe(1);
    expect(count('list', 'pods')).toBe(1);
    expect(count('get', 'jobs')).toBe(0);
    expect(count('create', 'jobs')).toBe(JOBS);
    expect(count('get', 'pods', 'log')).toBe(JOBS);
    // Finished Jobs are left to their TTL: no delete.
    expect(count('delete', 'jobs')).toBe(0);
    // The same counts in the worker's /metrics.
    registerKubernetesMetrics(() => ({
      ...h.client.limiter.counts,
      openWatches: executor.informers.openWatches,
      cachedObjects: executor.informers.cachedObjects,
    }));
    const metrics = await workRegistry.metrics();
    expect(metrics).toContain(`chainr_kubernetes_api_requests_total{kind="create"} ${JOBS}`);
    expect(metrics).toContain('chainr_kubernetes_watches_open 2');
    expect(metrics).toContain(`chainr_kubernetes_cached_objects ${JOBS * 2}`);
    await executor.close();
  });

  it('reads each log once, and whole, when requests queue at the rate limiter', async () => {
    // Two requests a second after the first: the jobs end while their log streams wait their turn
    // for longer than the wait for the rest of a log.
    const client = connectKubernetes({
      kubeconfigPaths: [h.sim.writeKubeconfig()],
      rateLimits: { qps: 2, burst: 1 },
    });
    const executor = new KubernetesExecutor({
      client,
      timing: { ...FAST_TIMING, logDrainMs: 1000 },
    });
    const first = h.sim.requests.length;
    const runs = [0, 1, 2].map((i) => h.start(h.request(`echo job ${i}`), executor));
    const results = await Promise.all(runs.map((r) => r.result));
    await executor.close();
    results.forEach((result, i) => {
      expect(result).toMatchObject({ status: 'SUCCESSFUL' });
      expect(jobLines(runs[i]?.logs ?? [])).toEqual([`job ${i}`]);
    });
    const seen = h.sim.requests.slice(first);
    const count = counter(seen);
    expect(count('create', 'jobs')).toBe(3);
    expect(count('get', 'pods', 'log')).toBe(3);
    expect(count('get', 'jobs')).toBe(0);
    // Every token the limiter gave was a request the server saw: none spent on abandoned streams.
    const reads = seen.filter((r) => ['get', 'list', 'watch'].includes(r.verb)).length;
    expect(client.limiter.counts.requests).toEqual({ create: 3, read: reads, delete: 0 });
  });

  it('reads a log whole from an API server slow to answer', async () => {
    // Every request is answered a second late: the job ends before its log stream's answer.
    const slow = await SimHarness.start({ latencyMs: 1000 });
    try {
      const executor = slow.executor({ timing: { logDrainMs: 200 } });
      const run = slow.start(slow.request('echo slow answer'), executor);
      expect(await run.result).toMatchObject({ status: 'SUCCESSFUL' });
      await executor.close();
      expect(jobLines(run.logs)).toEqual(['slow answer']);
    } finally {
      await slow.stop();
    }
  });

  it('asks the API server for no Job its cache has, though the watch shows it after the create', async () => {
    // The watch runs 300 ms behind: each create is answered before its Job reaches the cache, and
    // each attempt outlasts the wait after which a Job still missing from it is asked for.
    const lagging = await SimHarness.start({ watchLagMs: 300 });
    try {
      const executor = lagging.executor({
        timing: { cacheMissCheckMs: 1000, informerIdleMs: 60_000 },
      });
      const warm = lagging.start(lagging.request('echo warm'), executor);
      expect(await warm.result).toMatchObject({ status: 'SUCCESSFUL' });
      const first = lagging.sim.requests.length;
      const runs = [0, 1, 2].map((i) =>
        lagging.start(lagging.request(`echo job ${i}; sleep 2`), executor),
      );
      for (const run of runs) expect(await run.result).toMatchObject({ status: 'SUCCESSFUL' });
      await executor.close();
      const count = counter(lagging.sim.requests.slice(first));
      expect(count('create', 'jobs')).toBe(3);
      expect(count('get', 'pods', 'log')).toBe(3);
      expect(count('get', 'jobs')).toBe(0);
    } finally {
      await lagging.stop();
    }
  });

  it('sends its creates over connections kept open, not one connection per request', async () => {
    const executor = h.executor({ timing: { informerIdleMs: 60_000 } });
    const firstRequest = h.sim.requests.length;
    const firstConnection = h.sim.connections;
    for (const i of [1, 2, 3]) {
      const run = h.start(h.request(`echo ${i}`), executor);
      expect(await run.result).toMatchObject({ status: 'SUCCESSFUL' });
    }
    await executor.close();
    const requests = h.sim.requests.length - firstRequest;
    // Watches and log streams hold a connection each while they last; the lists and the three
    // creates share the ones kept open.
    expect(requests).toBe(10); // 2 lists, 2 watches, 3 creates, 3 log streams
    expect(h.sim.connections - firstConnection).toBeLessThanOrEqual(requests - 3);
  });

  it('selects by label: the watch asks only for chainr’s objects, of its instance', async () => {
    const executor = h.executor({ instance: 'blue' });
    const first = h.sim.requests.length;
    // Long enough for both watches to be asked for: a job over before the pod watch opens needs none.
    const run = h.start(h.request('echo hi; sleep 1'), executor);
    expect(await run.result).toMatchObject({ status: 'SUCCESSFUL' });
    await executor.close();
    const watches = h.sim.requests.slice(first).filter((r) => r.verb === 'watch');
    expect(watches.map((w) => decodeURIComponent(w.query)).sort()).toEqual([
      expect.stringContaining(
        'labelSelector=app.kubernetes.io/managed-by=chainr,chainr.io/instance=blue',
      ),
      expect.stringContaining(
        'labelSelector=app.kubernetes.io/managed-by=chainr,chainr.io/instance=blue',
      ),
    ]);
    expect(watches.every((w) => w.query.includes('allowWatchBookmarks=true'))).toBe(true);
  });

  it('keeps its watches between attempts, and closes them once idle', async () => {
    const executor = h.executor({ timing: { informerIdleMs: 1500 } });
    const first = h.sim.requests.length;
    for (const i of [1, 2, 3]) {
      const run = h.start(h.request(`echo ${i}`), executor);
      expect(await run.result).toMatchObject({ status: 'SUCCESSFUL' });
    }
    expect(executor.informers.openWatches).toBe(2);
    const lists = h.sim.requests.slice(first).filter((r) => r.verb === 'list');
    expect(lists).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 2500));
    expect(executor.informers.openWatches).toBe(0);
  });
});
