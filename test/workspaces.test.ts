/**
 * Run workspaces on the local executor, through the HTTP API: one directory per run shared by the
 * jobs that use it at $CHAINR_WORKSPACE, removed by recycle once the run no longer exists.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunDirectories } from '../src/executors/workspaces.ts';
import { makeKeys } from '../src/store/keys.ts';
import { RunStore } from '../src/store/runs.ts';
import { getRun, statuses, waitForEnd, type RunBody } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { testRecycler } from './fixtures/recycler.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let server: TestRedis;
let redis: Redis;
let h: Harness;
let root: string;
let workspaces: RunDirectories;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  root = mkdtempSync(join(tmpdir(), 'chainr-workspaces-test-'));
  workspaces = new RunDirectories(root);
  h = await startInProcess(server.url, { local: { workspaces } });
});

afterAll(async () => {
  await h?.stop();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function runToEnd(pipeline: unknown): Promise<RunBody> {
  const res = await fetch(`${h.url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(pipeline),
  });
  const text = await res.text();
  expect(res.status, text).toBe(202);
  return waitForEnd(h.url, (JSON.parse(text) as RunBody).metadata.uid);
}

async function logOf(uid: string, job: string): Promise<string> {
  const res = await fetch(`${h.url}/api/runs/${uid}/jobs/${job}/logs`);
  expect(res.status).toBe(200);
  return res.text();
}

const job = (run: string, extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  run,
  ...extra,
});

describe('run workspaces on the local executor', () => {
  it("pass a file from extract to load to report through $CHAINR_WORKSPACE (the README's pipeline)", async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      workspace: {},
      jobs: {
        extract: job('printf "a,1\\nb,2\\n" > "$CHAINR_WORKSPACE/rows.csv"'),
        load: job('wc -l < "$CHAINR_WORKSPACE/rows.csv" > "$CHAINR_WORKSPACE/count"', {
          dependsOn: [{ job: 'extract' }],
        }),
        report: job('echo "loaded $(cat "$CHAINR_WORKSPACE/count") rows in $CHAINR_WORKSPACE"', {
          dependsOn: [{ job: 'load' }],
          workspace: 'readOnly',
        }),
        elsewhere: job('echo "ws=${CHAINR_WORKSPACE-none}"', { workspace: 'none' }),
      },
    });
    const uid = run.metadata.uid;
    expect(statuses(run)).toEqual({
      extract: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
      report: 'SUCCESSFUL',
      elsewhere: 'SUCCESSFUL',
    });
    expect(await logOf(uid, 'report')).toBe(`loaded 2 rows in ${join(root, uid)}\n`);
    expect(await logOf(uid, 'elsewhere')).toBe('ws=none\n');
    expect(existsSync(join(root, uid, 'rows.csv'))).toBe(true);
  });

  it('is given to a job that asks for one when the pipeline declares none, and to no other', async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        writer: job('echo hello > "$CHAINR_WORKSPACE/greeting"', { workspace: 'readWrite' }),
        reader: job('cat "$CHAINR_WORKSPACE/greeting"', {
          dependsOn: [{ job: 'writer' }],
          workspace: 'readOnly',
        }),
        other: job('echo "ws=${CHAINR_WORKSPACE-none}"'),
      },
    });
    expect(statuses(run)).toMatchObject({ writer: 'SUCCESSFUL', reader: 'SUCCESSFUL' });
    expect(await logOf(run.metadata.uid, 'reader')).toBe('hello\n');
    expect(await logOf(run.metadata.uid, 'other')).toBe('ws=none\n');
  });

  it('fails a job whose executor provides none, saying so', async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: { nothing: job('true', { executor: 'noop', workspace: 'readWrite' }) },
    });
    const [nothing] = (await getRun(h.url, run.metadata.uid)).jobs as ({
      reason?: string;
    } & RunBody['jobs'][number])[];
    expect(nothing).toMatchObject({
      status: 'FAILED',
      reason:
        'the noop executor does not provide run workspaces (the job asks for one: workspace readWrite)',
    });
  });

  it('is refused when the mode is not one of readWrite, readOnly, none', async () => {
    const res = await fetch(`${h.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'Pipeline', jobs: { a: job('true', { workspace: 'rw' }) } }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('jobs.a.workspace');
  });

  it('is removed by recycle once its run is deleted by retention, never while the run exists', async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      workspace: {},
      jobs: { only: job('touch "$CHAINR_WORKSPACE/file"') },
    });
    const uid = run.metadata.uid;
    const keys = makeKeys(h.prefix);
    const recycler = testRecycler(redis, server.url, keys, {
      retentionMs: 60_000,
      runDirectories: [workspaces],
    });
    try {
      // Ended but within retention: kept.
      expect((await recycler.cycle()).runDirectories).toBe(0);
      expect(existsSync(join(root, uid, 'file'))).toBe(true);
      // Past retention: the run is deleted in this cycle, its directory in the same cycle.
      const report = await recycler.cycle(Date.now() + 120_000);
      expect(report.deleted).toBeGreaterThanOrEqual(1);
      expect(report.runDirectories).toBeGreaterThanOrEqual(1);
      expect(await new RunStore(redis, keys, 10_000).get(uid)).toBeUndefined();
      expect(existsSync(join(root, uid))).toBe(false);
    } finally {
      await recycler.close();
    }
  });
});
