/**
 * Garbage collection of chainr's Jobs (collectOrphans, for the recycle service), against the
 * simulator: Jobs of ended or vanished runs go with their pods; Jobs of open runs, young Jobs of
 * runs not found, other deployments' Jobs and Jobs chainr does not manage stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJobManifest } from '../src/executors/kubernetes/manifest.ts';
import {
  collectOrphans,
  orphanedJobs,
  type RunState,
} from '../src/executors/kubernetes/orphans.ts';
import { SimHarness } from './kube-sim/harness.ts';

let h: SimHarness;
beforeAll(async () => {
  h = await SimHarness.start();
});
afterAll(() => h.stop());

async function createJob(uid: string, run: string, instance?: string): Promise<string> {
  const body = buildJobManifest(h.request(run, { uid }), {
    namespace: 'default',
    ttlSecondsAfterFinished: 3600,
    ...(instance !== undefined && { instance }),
  });
  await h.client.batch.createNamespacedJob({ namespace: 'default', body });
  return body.metadata?.name ?? '';
}

const jobNames = () =>
  h.sim.store
    .list('jobs')
    .map((j) => j.metadata.name)
    .sort();

describe('orphanedJobs', () => {
  it('picks the Jobs of ended runs, and of missing runs once old enough', () => {
    const states = new Map<string, RunState>([
      ['ended', 'ended'],
      ['gone', 'missing'],
      ['open', 'active'],
    ]);
    const jobs = [
      { name: 'a', run: 'ended', createdMs: 1000 },
      { name: 'b', run: 'gone', createdMs: 1000 },
      { name: 'c', run: 'gone', createdMs: 9500 },
      { name: 'd', run: 'open', createdMs: 0 },
      { name: 'e', run: 'unknown', createdMs: 0 },
    ];
    expect(orphanedJobs(jobs, states, 10_000, 1000)).toEqual(['a', 'b']);
  });
});

describe('collectOrphans', () => {
  it('deletes the Jobs (and pods) of ended and vanished runs, and nothing else', async () => {
    const open = await createJob('11111111-0000-7000-8000-000000000001', 'sleep 30');
    const ended = await createJob('11111111-0000-7000-8000-000000000002', 'sleep 30');
    const vanished = await createJob('11111111-0000-7000-8000-000000000003', 'exit 0');
    const stagingJob = await createJob('11111111-0000-7000-8000-000000000004', 'exit 0', 'staging');
    await h.client.batch.createNamespacedJob({
      namespace: 'default',
      body: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name: 'not-chainrs',
          labels: { 'chainr.io/run': '11111111-0000-7000-8000-000000000003' },
        },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'c', image: 'busybox', command: ['true'] }],
            },
          },
        },
      },
    });
    const asked: string[][] = [];
    const states: Record<string, RunState> = {
      '11111111-0000-7000-8000-000000000001': 'active',
      '11111111-0000-7000-8000-000000000002': 'ended',
      '11111111-0000-7000-8000-000000000003': 'missing',
    };
    const collected = await collectOrphans({
      client: h.client,
      runStates: (uids) => {
        asked.push(uids);
        return Promise.resolve(new Map(uids.map((u) => [u, states[u] ?? 'missing'])));
      },
      missingGraceMs: 0,
    });
    // Without an instance filter, a Job labelled for another instance is collected too.
    expect(collected.failed).toEqual([]);
    expect(collected.deleted.sort()).toEqual([ended, stagingJob, vanished].sort());
    expect(jobNames()).toEqual([open, 'not-chainrs'].sort());
    expect(asked).toHaveLength(1);
    const podsLeft = () =>
      h.sim.store.list('pods').map((p) => p.metadata.ownerReferences?.[0]?.name);
    for (let i = 0; i < 100 && podsLeft().includes(ended); i += 1)
      await new Promise((r) => setTimeout(r, 50));
    expect(podsLeft()).not.toContain(ended);
    expect(podsLeft()).toContain(open);
  });

  it("keeps young Jobs of runs it cannot find, and other deployments' Jobs", async () => {
    const young = await createJob('22222222-0000-7000-8000-000000000001', 'exit 0', 'prod');
    const other = await createJob('22222222-0000-7000-8000-000000000002', 'exit 0', 'staging');
    const collected = await collectOrphans({
      client: h.client,
      runStates: (uids) => Promise.resolve(new Map(uids.map((u) => [u, 'missing' as const]))),
      instance: 'prod',
    });
    expect(collected.deleted).toEqual([]);
    expect(jobNames()).toEqual(expect.arrayContaining([young, other]));
  });
});
