import { describe, expect, it } from 'vitest';
import { expandMatrices } from './matrix.ts';
import type { Pipeline } from './types.ts';
import { singleNodeWorkspaceIssue } from './workspace.ts';

const job = (deps: string[] = [], extra: object = {}) => ({
  image: 'busybox',
  run: 'true',
  ...(deps.length > 0 && { dependsOn: deps.map((j) => ({ job: j })) }),
  ...extra,
});
const pipeline = (jobs: Record<string, unknown>, workspace: object = {}) =>
  ({ kind: 'Pipeline', workspace, jobs }) as Pipeline;
const all = (p: Pipeline) => new Set(Object.keys(p.jobs));

describe('a workspace volume one node mounts at a time', () => {
  it('accepts jobs that run one after the other, through jobs that do not use it too', () => {
    const p = pipeline({ a: job(), x: job(['a']), b: job(['x']), c: job(['b', 'a']) });
    expect(
      singleNodeWorkspaceIssue(p, new Set(['a', 'b', 'c']), ['ReadWriteOnce']),
    ).toBeUndefined();
  });

  it('refuses two jobs that may run at the same time, naming both and what to do', () => {
    const p = pipeline({ a: job(), b: job(['a']), c: job(['a']) });
    expect(singleNodeWorkspaceIssue(p, all(p), ['ReadWriteOnce'])).toEqual({
      path: 'jobs.c',
      message:
        'jobs "b" and "c" both use the run\'s workspace and may run at the same time, but its volume (ReadWriteOnce) is mounted by one node at a time: make one depend on the other, or give the workspace accessModes: [ReadWriteMany] (with a storage class that offers it)',
    });
  });

  it('accepts them with ReadWriteMany, from the pipeline or the deployment', () => {
    const fan = { a: job(), b: job(['a']), c: job(['a']) };
    const p = pipeline(fan, { accessModes: ['ReadWriteMany'] });
    expect(singleNodeWorkspaceIssue(p, all(p), ['ReadWriteOnce'])).toBeUndefined();
    expect(singleNodeWorkspaceIssue(pipeline(fan), all(p), ['ReadWriteMany'])).toBeUndefined();
  });

  it('names a matrix job as written; maxParallel 1 orders its instances', () => {
    const matrix = { matrix: { os: ['linux', 'mac'] } };
    const parallel = expandMatrices(pipeline({ t: job([], matrix) }));
    expect(singleNodeWorkspaceIssue(parallel, all(parallel), ['ReadWriteOnce'])?.path).toBe(
      'jobs.t',
    );
    const serial = expandMatrices(pipeline({ t: job([], { ...matrix, maxParallel: 1 }) }));
    expect(singleNodeWorkspaceIssue(serial, all(serial), ['ReadWriteOnce'])).toBeUndefined();
  });
});
