/**
 * The control flow of issue 19 end to end, through the HTTP API on the local executor: either-of
 * joins, tolerated failures and conditions, with the examples of docs/PIPELINES.md run as they
 * are written there.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { getRun, statuses, waitForEnd, type RunBody } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { isRunning, until } from './fixtures/wait.ts';

type Run = Omit<RunBody, 'jobs'> & {
  jobs: (RunBody['jobs'][number] & { tolerated?: boolean; attempt?: number })[];
};

let redis: TestRedis;
let h: Harness;

beforeAll(async () => {
  redis = await startRedis();
  h = await startInProcess(redis.url);
});
afterAll(async () => {
  await h?.stop();
  await redis?.stop();
});

const doc = readFileSync(new URL('../docs/PIPELINES.md', import.meta.url), 'utf8');

/** The YAML block after `<!-- example: name -->` in docs/PIPELINES.md. */
function example(name: string): string {
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`yaml\\n([\\s\\S]*?)\`\`\``).exec(
    doc,
  );
  if (!match?.[1]) throw new Error(`no example "${name}" in docs/PIPELINES.md`);
  return match[1];
}

async function post(body: string, type = 'application/yaml'): Promise<Response> {
  return fetch(`${h.url}/api/runs`, { method: 'POST', headers: { 'content-type': type }, body });
}

async function runToEnd(body: string, type?: string): Promise<Run> {
  const res = await post(body, type);
  const text = await res.text();
  expect(res.status, text).toBe(202);
  const uid = (JSON.parse(text) as RunBody).metadata.uid;
  return await waitForEnd(h.url, uid);
}

const jobOf = (run: Run, name: string) => run.jobs.find((j) => j.name === name);

/** The statuses a job of a run went through, from the deployment's event stream. */
async function jobTransitions(uid: string, job: string): Promise<string[]> {
  const client = redis.client();
  try {
    const entries = await client.xrange(`${h.prefix}events`, '-', '+');
    const fields = entries.map(([, f]) => {
      const o: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) o[f[i] as string] = f[i + 1] as string;
      return o;
    });
    return fields.filter((f) => f.uid === uid && f.job === job).map((f) => f.status as string);
  } finally {
    client.disconnect();
  }
}

/** A docs example with some jobs' commands replaced. */
function withRuns(yaml: string, runs: Record<string, string>): string {
  const pipeline = parse(yaml) as { jobs: Record<string, { run: string }> };
  for (const [job, run] of Object.entries(runs)) (pipeline.jobs[job] as { run: string }).run = run;
  return JSON.stringify(pipeline);
}

it('examples/control-flow/ holds each example of docs/PIPELINES.md as it is there', () => {
  for (const name of [
    'fallback-join',
    'conditions',
    'matrix',
    'matrix-fail-fast',
    'fan-out',
    'cancel-cleanup',
  ]) {
    const file = readFileSync(new URL(`../examples/control-flow/${name}.yaml`, import.meta.url));
    expect(file.toString('utf8'), name).toBe(example(name));
  }
});

describe('either-of join with a tolerated failure (docs example "fallback-join")', () => {
  it('continues with the fallback that succeeded and ends SUCCESSFUL, the failure tolerated', async () => {
    const run = await runToEnd(example('fallback-join'));
    expect(statuses(run)).toEqual({
      primary: 'FAILED',
      fallback: 'SUCCESSFUL',
      publish: 'SUCCESSFUL',
    });
    expect(run.status).toBe('SUCCESSFUL');
    expect(run.reason).toBe('job "primary" failed (tolerated: allowFailure)');
    expect(jobOf(run, 'primary')?.tolerated).toBe(true);
    expect(jobOf(run, 'fallback')?.tolerated).toBeUndefined();
  });

  it('continues with the primary when it succeeds (the fallback skipped)', async () => {
    const run = await runToEnd(
      withRuns(example('fallback-join'), { primary: 'true' }),
      'application/json',
    );
    expect(statuses(run)).toEqual({
      primary: 'SUCCESSFUL',
      fallback: 'SKIPPED',
      publish: 'SUCCESSFUL',
    });
    expect(run.status).toBe('SUCCESSFUL');
    expect(run.reason).toBeUndefined();
  });

  it('skips the join when both failed, and the run is FAILED by the failure not tolerated', async () => {
    const run = await runToEnd(
      withRuns(example('fallback-join'), { fallback: 'exit 3' }),
      'application/json',
    );
    expect(statuses(run)).toEqual({
      primary: 'FAILED',
      fallback: 'FAILED',
      publish: 'SKIPPED',
    });
    expect(jobOf(run, 'publish')?.reason).toBe(
      'none of its either-of dependencies ended SUCCESSFUL ("primary" FAILED, "fallback" FAILED); this job needs at least one',
    );
    expect(run.status).toBe('FAILED');
    expect(run.reason).toBe('job "fallback" failed');
  });
});

describe('conditions (docs example "conditions")', () => {
  it('skips a job whose condition is false, with the expression and its values as the reason', async () => {
    const run = await runToEnd(example('conditions'));
    expect(statuses(run)).toEqual({
      count: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
      announce: 'SKIPPED',
    });
    expect(jobOf(run, 'announce')?.reason).toBe(
      'condition params.target == "prod" is false (params.target = "staging")',
    );
    expect(run.status).toBe('SUCCESSFUL');
    // Decided before it could start: the job went from PENDING straight to SKIPPED.
    expect(await jobTransitions(run.metadata.uid, 'announce')).toEqual(['SKIPPED']);
  });

  it('runs it when the condition holds, and skips on an output', async () => {
    const pipeline = parse(example('conditions')) as unknown;
    const run = await runToEnd(
      JSON.stringify({ pipeline, params: { target: 'prod' } }),
      'application/json',
    );
    expect(statuses(run)).toEqual({
      count: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
      announce: 'SUCCESSFUL',
    });
    const empty = await runToEnd(
      withRuns(example('conditions'), { count: 'echo "rows=0" >> "$CHAINR_OUTPUTS"' }),
      'application/json',
    );
    expect(statuses(empty)).toEqual({
      count: 'SUCCESSFUL',
      load: 'SKIPPED',
      announce: 'SKIPPED',
    });
    expect(jobOf(empty, 'load')?.reason).toBe(
      'condition int(jobs.count.outputs.rows) > 0 is false (jobs.count.outputs.rows = "0")',
    );
  });

  it('fails the job, saying why, when the condition reads an output that is absent', async () => {
    const run = await runToEnd(
      withRuns(example('conditions'), { count: 'true' }),
      'application/json',
    );
    expect(statuses(run)).toMatchObject({
      count: 'SUCCESSFUL',
      load: 'FAILED',
    });
    expect(jobOf(run, 'load')?.reason).toBe(
      'condition int(jobs.count.outputs.rows) > 0 could not be evaluated: No such key: rows',
    );
    expect(run.status).toBe('FAILED');
  });

  it('refuses a condition reading a job that is not an ancestor: 400 with path, line and column', async () => {
    const when = 'int(jobs.count.outputs.rows) > 0 && jobs.announce.status == "SKIPPED"';
    const yaml = example('conditions').replace(
      'when: int(jobs.count.outputs.rows) > 0',
      `when: ${when}`,
    );
    const res = await post(yaml);
    const body = (await res.json()) as {
      details: { path: string; message: string; line: number; column: number }[];
    };
    expect(res.status).toBe(400);
    const line = yaml.split('\n').findIndex((l) => l.includes('jobs.announce.status')) + 1;
    const column = (yaml.split('\n')[line - 1] ?? '').indexOf('jobs.announce') + 'jobs.'.length + 1;
    expect(body.details).toEqual([
      expect.objectContaining({ path: 'jobs.load.when', line, column }),
    ]);
    const inExpression = when.indexOf('jobs.announce') + 'jobs.'.length + 1;
    expect(body.details[0]?.message).toMatch(
      new RegExp(`^No such key: announce \\(line 1, column ${inExpression} `),
    );
  });
});

describe('matrix (docs example "matrix")', () => {
  it('runs one instance per combination, each with its values, and the dependent after all', async () => {
    const run = await runToEnd(example('matrix'));
    const instances = ['test-linux-18', 'test-linux-20', 'test-mac-18', 'test-mac-20'];
    expect(statuses(run)).toEqual(
      Object.fromEntries([...instances, 'report'].map((job) => [job, 'SUCCESSFUL'])),
    );
    const seen = instances.map((job) => (jobOf(run, job) as { outputs?: object }).outputs);
    expect(seen).toEqual([
      { seen: 'linux/18' },
      { seen: 'linux/20' },
      { seen: 'mac/18' },
      { seen: 'mac/20' },
    ]);
    const at = (job: string, field: 'startedAt' | 'finishedAt') =>
      Date.parse(jobOf(run, job)?.[field] ?? '');
    // maxParallel 2: the third and fourth instances start after the first and second ended.
    expect(at('test-mac-18', 'startedAt')).toBeGreaterThanOrEqual(
      at('test-linux-18', 'finishedAt'),
    );
    expect(at('test-mac-20', 'startedAt')).toBeGreaterThanOrEqual(
      at('test-linux-20', 'finishedAt'),
    );
    for (const job of instances)
      expect(at('report', 'startedAt')).toBeGreaterThanOrEqual(at(job, 'finishedAt'));
  });

  it('with maxParallel 1 and failFast, runs one instance at a time and skips the rest after a failure (docs example "matrix-fail-fast")', async () => {
    const run = await runToEnd(example('matrix-fail-fast'));
    expect(statuses(run)).toEqual({
      'shard-1': 'SUCCESSFUL',
      'shard-2': 'FAILED',
      'shard-3': 'SKIPPED',
      'shard-4': 'SKIPPED',
      summary: 'SUCCESSFUL',
    });
    for (const job of ['shard-3', 'shard-4']) {
      expect(jobOf(run, job)?.reason).toBe('instance "shard-2" of "shard" failed (failFast)');
      expect(await jobTransitions(run.metadata.uid, job)).toEqual(['SKIPPED']);
    }
    const at = (job: string, field: 'startedAt' | 'finishedAt') =>
      Date.parse(jobOf(run, job)?.[field] ?? '');
    expect(at('shard-2', 'startedAt')).toBeGreaterThanOrEqual(at('shard-1', 'finishedAt'));
    expect(run.status).toBe('FAILED');
    expect(run.reason).toBe('job "shard-2" failed');
  });

  it('runs every instance without failFast, and a condition reads an instance at run time', async () => {
    const yaml = example('matrix-fail-fast')
      .replace('failFast: true', 'failFast: false')
      .replace('jobs["shard-1"]', 'jobs["shard-2"]');
    const run = await runToEnd(yaml);
    expect(statuses(run)).toEqual({
      'shard-1': 'SUCCESSFUL',
      'shard-2': 'FAILED',
      'shard-3': 'SUCCESSFUL',
      'shard-4': 'SUCCESSFUL',
      summary: 'SKIPPED',
    });
    expect(jobOf(run, 'summary')?.reason).toBe(
      'condition jobs["shard-2"].status == "SUCCESSFUL" is false (jobs["shard-2"].status = "FAILED")',
    );
  });

  it('refuses a matrix over the instance limit: 400 naming the path, line and column', async () => {
    const values = Array.from({ length: 20 }, (_, i) => `v${i}`).join(', ');
    const yaml = example('matrix').replace(
      "node: ['18', '20']",
      `node: [${values}]\n      arch: [${values}]`,
    );
    const res = await post(yaml);
    const body = (await res.json()) as {
      details: { path: string; message: string; line: number; column: number }[];
    };
    expect(res.status).toBe(400);
    const line = yaml.split('\n').findIndex((l) => l.includes('matrix:')) + 1;
    expect(body.details).toEqual([
      {
        path: 'jobs.test.matrix',
        message: '800 combinations exceed the limit of 256 instances of one job',
        line,
        column: 5,
      },
    ]);
  });
});

describe('cleanup on cancel (docs example "cancel-cleanup")', () => {
  async function submitted(yaml: string): Promise<string> {
    const res = await post(yaml);
    expect(res.status).toBe(202);
    return ((await res.json()) as RunBody).metadata.uid;
  }

  async function untilJob(uid: string, job: string, status: string): Promise<Run> {
    for (;;) {
      const run = (await getRun(h.url, uid)) as Run;
      if (jobOf(run, job)?.status === status) return run;
      expect(run.status === 'RUNNING' || run.status === 'PENDING', JSON.stringify(run)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const cancel = (uid: string, query = '') =>
    fetch(`${h.url}/api/runs/${uid}/cancel${query}`, { method: 'POST' });

  it('stops the running job, cancels the waiting one, runs the cleanup job, then ends CANCELED', async () => {
    const uid = await submitted(example('cancel-cleanup'));
    await untilJob(uid, 'load', 'RUNNING');
    expect((await cancel(uid)).status).toBe(202);
    const run = await waitForEnd(h.url, uid);
    expect(statuses(run)).toEqual({ load: 'CANCELED', publish: 'CANCELED', cleanup: 'SUCCESSFUL' });
    expect(run.status).toBe('CANCELED');
    expect(run.reason).toBe('canceled by request');
    const at = (job: string, field: 'startedAt' | 'finishedAt') =>
      Date.parse(jobOf(run, job)?.[field] ?? '');
    expect(at('cleanup', 'startedAt')).toBeGreaterThanOrEqual(at('load', 'finishedAt'));
  });

  it.each([
    ['a second cancel', ''],
    ['a forced cancel', '?force=true'],
  ])('stops the cleanup jobs too on %s', async (_, query) => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'cleanup-')), 'pid');
    const uid = await submitted(
      withRuns(example('cancel-cleanup'), { cleanup: `echo $$ > ${pidFile}; exec sleep 300` }),
    );
    await untilJob(uid, 'load', 'RUNNING');
    expect((await cancel(uid)).status).toBe(202);
    const canceling = await untilJob(uid, 'cleanup', 'RUNNING');
    expect(canceling.status).toBe('RUNNING');
    expect(canceling.reason).toBe('canceled by request; running its cleanup jobs (cleanup) first');
    const pid = await until(
      () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')),
      'pid',
    );
    expect(isRunning(pid)).toBe(true);
    expect((await cancel(uid, query)).status).toBe(202);
    const run = await waitForEnd(h.url, uid);
    expect(statuses(run)).toEqual({ load: 'CANCELED', publish: 'CANCELED', cleanup: 'CANCELED' });
    expect(run.status).toBe('CANCELED');
    await until(() => !isRunning(pid), 'the cleanup job to be stopped');
  });

  it('cancels every instance of a matrix that maxParallel orders: none is taken for a cleanup job', async () => {
    const uid = await submitted(
      [
        'kind: Pipeline',
        'jobs:',
        '  shard:',
        '    image: busybox',
        '    run: sleep 2',
        '    matrix: { n: ["1", "2", "3"] }',
        '    maxParallel: 1',
      ].join('\n'),
    );
    await untilJob(uid, 'shard-1', 'RUNNING');
    expect((await cancel(uid)).status).toBe(202);
    const run = await waitForEnd(h.url, uid);
    expect(statuses(run)).toEqual({
      'shard-1': 'CANCELED',
      'shard-2': 'CANCELED',
      'shard-3': 'CANCELED',
    });
    expect(jobOf(run, 'shard-2')?.startedAt).toBeUndefined();
    expect(run.status).toBe('CANCELED');
  });

  it('with force on the first cancel, runs no cleanup job', async () => {
    const uid = await submitted(example('cancel-cleanup'));
    await untilJob(uid, 'load', 'RUNNING');
    expect((await cancel(uid, '?force=true')).status).toBe(202);
    const run = await waitForEnd(h.url, uid);
    expect(statuses(run)).toEqual({ load: 'CANCELED', publish: 'CANCELED', cleanup: 'CANCELED' });
    expect(jobOf(run, 'cleanup')?.startedAt).toBeUndefined();
  });
});

describe('dynamic fan-out (docs example "fan-out")', () => {
  const listing = (files: string) =>
    withRuns(example('fan-out'), { list: `echo 'files=${files}' >> "$CHAINR_OUTPUTS"` });

  it("runs one instance per item of the producer's array, each seeing its item, and the join after all", async () => {
    const run = await runToEnd(example('fan-out'));
    expect(statuses(run)).toEqual({
      list: 'SUCCESSFUL',
      convert: 'SUCCESSFUL',
      'convert-0': 'SUCCESSFUL',
      'convert-1': 'SUCCESSFUL',
      'convert-2': 'SUCCESSFUL',
      merge: 'SUCCESSFUL',
    });
    const seen = ['convert-0', 'convert-1', 'convert-2'].map(
      (job) => (jobOf(run, job) as { outputs?: object }).outputs,
    );
    expect(seen).toEqual([{ seen: 'a.csv' }, { seen: 'b.csv' }, { seen: 'c.csv' }]);
    const at = (job: string, field: 'startedAt' | 'finishedAt') =>
      Date.parse(jobOf(run, job)?.[field] ?? '');
    for (const job of ['convert-0', 'convert-1', 'convert-2']) {
      expect(at(job, 'startedAt')).toBeGreaterThanOrEqual(at('list', 'finishedAt'));
      expect(at('merge', 'startedAt')).toBeGreaterThanOrEqual(at(job, 'finishedAt'));
    }
    expect(run.status).toBe('SUCCESSFUL');
  });

  it('skips on an empty array, with the reason, and the join with it', async () => {
    const run = await runToEnd(listing('[]'), 'application/json');
    expect(statuses(run)).toEqual({ list: 'SUCCESSFUL', convert: 'SKIPPED', merge: 'SKIPPED' });
    expect(jobOf(run, 'convert')?.reason).toBe(
      'forEach: jobs.list.outputs.files is an empty array: nothing to run',
    );
    expect(run.status).toBe('SUCCESSFUL');
  });

  it('fails the fan-out on a malformed array, saying why', async () => {
    const run = await runToEnd(listing('nope'), 'application/json');
    expect(statuses(run)).toEqual({ list: 'SUCCESSFUL', convert: 'FAILED', merge: 'SKIPPED' });
    expect(jobOf(run, 'convert')?.reason).toBe(
      'forEach: jobs.list.outputs.files is not a JSON array: nope',
    );
    expect(run.status).toBe('FAILED');
  });

  it.each([
    ['an object', '{"a":"b.csv"}', 'is not a JSON array: {"a":"b.csv"}'],
    [
      'an item not a string or number',
      '["a.csv",["b.csv"]]',
      'holds an item that is not a string or a number: ["a.csv",["b.csv"]]',
    ],
    [
      '1,001 items',
      JSON.stringify(Array.from({ length: 1001 }, () => 1)),
      'has 1001 items, over the limit of 1000',
    ],
  ])('fails the fan-out on %s, saying why, and skips the join', async (_, files, why) => {
    const run = await runToEnd(listing(files), 'application/json');
    expect(statuses(run)).toEqual({ list: 'SUCCESSFUL', convert: 'FAILED', merge: 'SKIPPED' });
    expect(jobOf(run, 'convert')?.reason).toBe(`forEach: jobs.list.outputs.files ${why}`);
    expect(run.status).toBe('FAILED');
  });

  it('fails the fan-out when the producer wrote no such output', async () => {
    const yaml = withRuns(example('fan-out'), { list: `echo 'other=[]' >> "$CHAINR_OUTPUTS"` });
    const run = await runToEnd(yaml, 'application/json');
    expect(statuses(run)).toEqual({ list: 'SUCCESSFUL', convert: 'FAILED', merge: 'SKIPPED' });
    expect(jobOf(run, 'convert')?.reason).toBe('forEach: jobs.list.outputs.files is absent');
  });

  it('fails the producer whose array takes its outputs over their size limit, and skips the fan-out', async () => {
    const files = JSON.stringify(Array.from({ length: 1000 }, (_, i) => `file-${i}.csv`));
    const run = await runToEnd(listing(files), 'application/json');
    expect(statuses(run)).toEqual({ list: 'FAILED', convert: 'SKIPPED', merge: 'SKIPPED' });
    expect(jobOf(run, 'list')?.reason).toMatch(
      /^outputs are [0-9]+ bytes, more than the limit of 4096$/,
    );
    expect(jobOf(run, 'convert')?.reason).toBe(
      'dependency "list" ended FAILED; this job runs only when it is SUCCESSFUL',
    );
    expect(run.status).toBe('FAILED');
  });

  it('retried, re-runs the failed instances only, then the group and the join', async () => {
    const flags = mkdtempSync(join(tmpdir(), 'foreach-retry-'));
    const yaml = withRuns(example('fan-out'), {
      convert: `if [ "$CHAINR_ITEM" = b.csv ] && [ ! -e ${flags}/b ]; then touch ${flags}/b; exit 1; fi; touch ${flags}/ran-$CHAINR_ITEM-$CHAINR_ATTEMPT`,
    });
    const failed = await runToEnd(yaml, 'application/json');
    expect(statuses(failed)).toMatchObject({ 'convert-1': 'FAILED', convert: 'FAILED' });
    const retried = await fetch(`${h.url}/api/runs/${failed.metadata.uid}/retry`, {
      method: 'POST',
    });
    expect(retried.status).toBe(202);
    const run = (await waitForEnd(h.url, failed.metadata.uid)) as unknown as Run;
    expect(run.jobs.map((j) => j.name)).toEqual([
      'list',
      'convert',
      'convert-0',
      'convert-1',
      'convert-2',
      'merge',
    ]);
    expect(statuses(run)).toEqual({
      list: 'SUCCESSFUL',
      convert: 'SUCCESSFUL',
      'convert-0': 'SUCCESSFUL',
      'convert-1': 'SUCCESSFUL',
      'convert-2': 'SUCCESSFUL',
      merge: 'SUCCESSFUL',
    });
    expect(run.jobs.map((j) => [j.name, j.attempt])).toEqual([
      ['list', 1],
      ['convert', 2],
      ['convert-0', 1],
      ['convert-1', 2],
      ['convert-2', 1],
      ['merge', 2],
    ]);
    expect(readdirSync(flags).sort()).toEqual(['b', 'ran-a.csv-1', 'ran-b.csv-2', 'ran-c.csv-1']);
    expect(run.status).toBe('SUCCESSFUL');
  });

  it('fails the group when an instance fails, and skips the join', async () => {
    const yaml = withRuns(example('fan-out'), {
      convert: 'test "$CHAINR_ITEM" != b.csv',
    });
    const run = await runToEnd(yaml, 'application/json');
    expect(statuses(run)).toMatchObject({
      'convert-0': 'SUCCESSFUL',
      'convert-1': 'FAILED',
      'convert-2': 'SUCCESSFUL',
      convert: 'FAILED',
      merge: 'SKIPPED',
    });
    expect(jobOf(run, 'convert')?.reason).toBe('instance "convert-1" of 3 failed');
  });

  it('refuses a forEach reading a job that is not a dependency: 400 with path, line and column', async () => {
    const yaml = example('fan-out').replace(
      'dependsOn: [{ job: list }]\n  merge',
      'dependsOn: []\n  merge',
    );
    const res = await post(yaml);
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      details: { path: string; message: string; line: number; column: number }[];
    };
    const line = yaml.split('\n').findIndex((l) => l.includes('forEach:')) + 1;
    expect(body.details).toEqual([
      {
        path: 'jobs.convert.forEach',
        message:
          'reads job "list", which is not one of its dependencies: add { job: list } to its dependsOn (an either-of member does not count)',
        line,
        column: 14,
      },
    ]);
  });
});
