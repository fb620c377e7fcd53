/** The HTTP API end to end: sched and work in-process, on a real redis-server. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun, statuses, submit, waitForEnd, type RunBody } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { EventStream, withTimeout } from './fixtures/event-stream.ts';
import { until, isRunning } from './fixtures/wait.ts';

const SEED = {
  kind: 'Pipeline',
  jobs: {
    first: { image: 'busybox', run: 'exit 0' },
    second: { image: 'busybox', run: 'exit 0' },
    success: { dependsOn: [{ job: 'first' }], image: 'busybox', run: 'exit 0' },
    error: {
      dependsOn: [{ job: 'first', conditions: { failure: true } }],
      image: 'busybox',
      run: 'exit 0',
    },
  },
};

const SEED_YAML = `kind: Pipeline
jobs:
  first:
    image: busybox
    run: exit 0
  second:
    image: busybox
    run: exit 0
  success:
    dependsOn:
      - job: first
    image: busybox
    run: exit 0
  error:
    dependsOn:
      - job: first
        conditions:
          failure: true
    image: busybox
    run: exit 0
`;

const execFileAsync = promisify(execFile);

const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN_UID = '01900000-0000-7000-8000-000000000000';

interface ErrorBody {
  kind: 'Error';
  error: string;
  details?: { path: string; message: string; line?: number; column?: number }[];
}

interface RunListBody {
  kind: 'RunList';
  metadata: { selfLink: string; continue?: string };
  items: RunBody[];
}

type FullRun = RunBody & {
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  pipeline?: unknown;
  metadata: { uid: string; selfLink: string; creationTimestamp?: string };
};

let redis: TestRedis;
/** The default harness: sched and work. */
let h: Harness;
/** Only sched, so that runs stay PENDING. */
let idle: Harness;
let small: Harness;
let scratch: string;

beforeAll(async () => {
  redis = await startRedis();
  [h, idle, small] = await Promise.all([
    startInProcess(redis.url),
    startInProcess(redis.url, { work: false }),
    startInProcess(redis.url, { bodyLimitBytes: 256, maxJobsPerPipeline: 2, work: false }),
  ]);
  scratch = mkdtempSync(join(tmpdir(), 'chainr-api-test-'));
});

afterAll(async () => {
  await Promise.all([h?.stop(), idle?.stop(), small?.stop()]);
  await redis?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function post(base: string, path: string, body: string, contentType?: string): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body,
  });
}

const postJson = (base: string, body: unknown) =>
  post(base, '/api/runs', JSON.stringify(body), 'application/json');

async function expectError(res: Response, status: number): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.kind).toBe('Error');
  expect(typeof body.error).toBe('string');
  return body;
}

function pipeline(jobs: Record<string, { run: string; dependsOn?: unknown[] }>) {
  return {
    kind: 'Pipeline',
    jobs: Object.fromEntries(
      Object.entries(jobs).map(([name, j]) => [name, { image: 'busybox', ...j }]),
    ),
  };
}

async function jobRunning(base: string, uid: string, job: string): Promise<void> {
  await until(async () => {
    const run = await getRun(base, uid);
    const status = run.jobs.find((j) => j.name === job)?.status;
    if (status !== 'PENDING' && status !== 'RUNNING') throw new Error(`job ${job} is ${status}`);
    return status === 'RUNNING' ? true : undefined;
  }, `job ${job} to run`);
}

interface EventData {
  uid: string;
  job?: string;
  status: string;
  reason?: string;
}

describe('discovery', () => {
  it('GET /api lists the resources', async () => {
    const res = await fetch(`${h.url}/api`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kind: string; resources: Record<string, unknown> };
    expect(body.kind).toBe('APIResourceList');
    expect(Object.keys(body.resources)).toEqual(
      expect.arrayContaining(['runs', 'runs/cancel', 'runs/events', 'runs/jobs/logs', 'events']),
    );
  });

  it('GET /api/schema/pipeline returns the pipeline JSON Schema', async () => {
    const res = await fetch(`${h.url}/api/schema/pipeline`);
    expect(res.status).toBe(200);
    const schema = (await res.json()) as { $schema: string; properties: Record<string, unknown> };
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.properties.jobs).toMatchObject({ type: 'object' });
  });

  it('GET /api/openapi.json returns an OpenAPI 3.1 document of every route and method', async () => {
    const res = await fetch(`${h.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/runs',
      '/api/runs/{uid}',
      '/api/runs/{uid}/cancel',
      '/api/runs/{uid}/jobs/{name}/logs',
      '/api/runs/{uid}/events',
      '/api/events',
    ]) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
    // Every method is documented: those a resource serves, HEAD beside GET, and the others'
    // 405 with Allow.
    expect(Object.keys(doc.paths['/api/runs'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'head',
      'patch',
      'post',
      'put',
    ]);
    const answers = (path: string, method: string) =>
      Object.keys((doc.paths[path]?.[method] as { responses: object }).responses);
    expect(answers('/api/runs', 'post')).toContain('202');
    expect(answers('/api/runs', 'put')).toContain('405');
    expect(answers('/api/runs', 'put')).not.toContain('200');
    expect(answers('/api/runs/{uid}/cancel', 'post')).toContain('202');
    expect(answers('/api/runs/{uid}/cancel', 'get')).toContain('405');
  });

  it('answers 404 with an Error for an unknown path', async () => {
    const body = await expectError(await fetch(`${h.url}/api/nope`), 404);
    expect(body.error).toBe('no such resource: GET /api/nope');
  });
});

describe('POST /api/runs', () => {
  it('schedules the seed pipeline and runs it to the end', async () => {
    const before = Date.now();
    const res = await postJson(h.url, SEED);
    expect(res.status).toBe(202);
    const created = (await res.json()) as FullRun;
    expect(created.kind).toBe('Run');
    expect(created.metadata.uid).toMatch(UID);
    const uid = created.metadata.uid;
    expect(created.metadata.selfLink).toBe(`/api/runs/${uid}`);
    expect(res.headers.get('location')).toBe(`/api/runs/${uid}`);
    expect(['PENDING', 'RUNNING']).toContain(created.status);
    expect(created.jobs.map((j) => j.name)).toEqual(['first', 'second', 'success', 'error']);
    for (const job of created.jobs)
      expect(['PENDING', 'RUNNING', 'SUCCESSFUL', 'SKIPPED']).toContain(job.status);
    expect(created.pipeline).toBeUndefined();

    const run = (await waitForEnd(h.url, uid)) as FullRun;
    expect(run.status).toBe('SUCCESSFUL');
    expect(statuses(run)).toEqual({
      first: 'SUCCESSFUL',
      second: 'SUCCESSFUL',
      success: 'SUCCESSFUL',
      error: 'SKIPPED',
    });
    const jobs = Object.fromEntries(run.jobs.map((j) => [j.name, j]));
    // Each job names what ran it (or would have): here the deployment's default.
    for (const job of run.jobs) expect(job.executor, job.name).toBe('local');
    expect(jobs.error?.reason).toMatch(/"first"/);
    expect(jobs.error?.reason).toContain('SUCCESSFUL');
    expect(jobs.error?.exitCode).toBeUndefined();
    expect(jobs.error?.startedAt).toBeUndefined();
    for (const name of ['first', 'second', 'success']) {
      const job = jobs[name];
      expect(job?.exitCode, name).toBe(0);
      const started = Date.parse(job?.startedAt ?? '');
      const finished = Date.parse(job?.finishedAt ?? '');
      expect(started, name).toBeGreaterThanOrEqual(before - 1);
      expect(started, name).toBeLessThanOrEqual(finished);
    }
    expect(Date.parse(jobs.success?.startedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(jobs.first?.finishedAt ?? ''),
    );
    const created_ = Date.parse(run.createdAt ?? '');
    const started = Date.parse(run.startedAt ?? '');
    const finished = Date.parse(run.finishedAt ?? '');
    expect(created_).toBeGreaterThanOrEqual(before - 1);
    expect(created_).toBeLessThanOrEqual(started);
    expect(started).toBeLessThanOrEqual(finished);
    expect(run.metadata.creationTimestamp).toBe(run.createdAt);
    // GET of one run carries the pipeline as submitted.
    expect(run.pipeline).toEqual(SEED);
  });

  it('accepts the same pipeline as YAML', async () => {
    for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml; charset=utf-8']) {
      const res = await post(h.url, '/api/runs', SEED_YAML, type);
      expect(res.status, type).toBe(202);
      const created = (await res.json()) as RunBody;
      expect(created.jobs.map((j) => j.name)).toEqual(['first', 'second', 'success', 'error']);
      const run = (await waitForEnd(h.url, created.metadata.uid)) as FullRun;
      expect(run.status).toBe('SUCCESSFUL');
      expect(run.pipeline).toEqual(SEED);
    }
  });

  it('accepts a charset parameter on JSON', async () => {
    const res = await post(
      h.url,
      '/api/runs',
      JSON.stringify(SEED),
      'application/json; charset=utf-8',
    );
    expect(res.status).toBe(202);
  });

  it('rejects an unknown dependency with its path', async () => {
    const bad = structuredClone(SEED);
    bad.jobs.error.dependsOn[0]!.job = 'frist';
    const body = await expectError(await postJson(h.url, bad), 400);
    expect(body.error).toContain('jobs.error.dependsOn[0].job: unknown job "frist"');
    expect(body.error).toContain('did you mean "first"?');
    expect(body.details).toHaveLength(1);
    expect(body.details?.[0]).toMatchObject({
      path: 'jobs.error.dependsOn[0].job',
      message: expect.stringContaining('unknown job "frist"') as unknown,
      line: 1,
      column: JSON.stringify(bad).indexOf('"frist"') + 1,
    });
  });

  it('rejects a cycle', async () => {
    const body = await expectError(
      await postJson(
        h.url,
        pipeline({
          a: { run: 'true', dependsOn: [{ job: 'b' }] },
          b: { run: 'true', dependsOn: [{ job: 'a' }] },
        }),
      ),
      400,
    );
    expect(body.error).toBe(
      'invalid pipeline: jobs.a.dependsOn[0].job: cycle a → b → a (line 1, column 84)',
    );
  });

  it('rejects a job name that is not a DNS-1123 label', async () => {
    const body = await expectError(
      await postJson(h.url, pipeline({ Build_It: { run: 'true' } })),
      400,
    );
    expect(body.error).toContain('jobs.Build_It: job name "Build_It" must be a DNS-1123 label');
  });

  it('reports several errors together, with their positions in a YAML body', async () => {
    const yaml = [
      'kind: Pipeline', // 1
      'jobs:', // 2
      '  Bad_Name:', // 3
      '    image: busybox', // 4
      '    run: "true"', // 5
      '  second:', // 6
      '    run: "true"', // 7
      '    dependsOn:', // 8
      '      - job: frist', // 9
      '',
    ].join('\n');
    const body = await expectError(await post(h.url, '/api/runs', yaml, 'application/yaml'), 400);
    expect(body.details?.map((d) => [d.path, d.line])).toEqual([
      ['jobs.Bad_Name', 3],
      ['jobs.second.dependsOn[0].job', 9],
      ['jobs.second.image', 6],
    ]);
    expect(body.details?.[1]).toMatchObject({ message: 'unknown job "frist"', column: 14 });
    expect(body.details?.[2]?.message).toBe('is required');
    expect(body.error).toBe(
      `invalid pipeline: ${(body.details ?? [])
        .map((d) => `${d.path}: ${d.message} (line ${d.line}, column ${d.column})`)
        .join('; ')}`,
    );
  });

  it('rejects a document that is not a pipeline', async () => {
    const body = await expectError(
      await postJson(h.url, { kind: 'Pipeline', jobs: {}, extra: 1 }),
      400,
    );
    expect(body.error).toContain('unknown field "extra"');
    expect(body.error).toContain('jobs: must contain at least one job');
    const array = await expectError(await postJson(h.url, [1, 2]), 400);
    expect(array.error).toContain('the pipeline must be an object');
  });

  it('rejects malformed JSON, naming the position', async () => {
    const text =
      '{\n  "kind": "Pipeline",\n  "jobs": {\n    "a": {"image": "x" "run": "true"}\n  }\n}';
    const body = await expectError(await post(h.url, '/api/runs', text, 'application/json'), 400);
    expect(body.error).toContain('invalid JSON');
    expect(body.error).toContain(`expected ',' or '}' but found "\\""`);
    expect(body.details).toEqual([
      {
        path: '',
        message: expect.stringContaining('invalid JSON') as unknown,
        line: 4,
        column: 24,
      },
    ]);
  });

  it('rejects malformed YAML', async () => {
    const body = await expectError(
      await post(h.url, '/api/runs', 'kind: Pipeline\njobs: [a\n', 'application/yaml'),
      400,
    );
    expect(body.error).toContain('invalid YAML');
  });

  it('rejects an empty body', async () => {
    const json = await expectError(await post(h.url, '/api/runs', '', 'application/json'), 400);
    expect(json.error).toMatch(/empty/);
    const blank = await expectError(
      await post(h.url, '/api/runs', '  \n', 'application/yaml'),
      400,
    );
    expect(blank.error).toMatch(/empty/);
    const none = await expectError(await fetch(`${h.url}/api/runs`, { method: 'POST' }), 400);
    expect(none.error).toMatch(/empty/);
  });

  it('answers 413 to a body over the limit', async () => {
    const big = pipeline({ a: { run: `echo ${'x'.repeat(1000)}` } });
    const body = await expectError(await postJson(small.url, big), 413);
    expect(body.error).toBe('request body is larger than the limit of 256 bytes');
    // Within the limit, the same harness accepts.
    expect((await postJson(small.url, pipeline({ a: { run: 'true' } }))).status).toBe(202);
  });

  it('answers 415 to a content type that is clearly not a pipeline', async () => {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const body = await expectError(
        await post(h.url, '/api/runs', JSON.stringify(SEED), type),
        415,
      );
      expect(body.error, type).toMatch(/application\/json or application\/yaml/);
    }
  });

  it('rejects a pipeline over maxJobsPerPipeline, naming the limit', async () => {
    const body = await expectError(
      await postJson(
        small.url,
        pipeline({ a: { run: 'true' }, b: { run: 'true' }, c: { run: 'true' } }),
      ),
      400,
    );
    expect(body.error).toContain('jobs: 3 jobs exceed the limit of 2');
  });
});

describe('compatibility with the original chainr', () => {
  const seedFile = new URL('../examples/seed.json', import.meta.url).pathname;

  it('GET /api answers the resources keyed by name, each with its url and description', async () => {
    const res = await fetch(`${h.url}/api`);
    const body = (await res.json()) as {
      kind: string;
      metadata: { selfLink: string };
      resources: Record<string, { url: string; description: string }>;
    };
    expect(body.kind).toBe('APIResourceList');
    expect(body.metadata.selfLink).toBe('/api');
    expect(body.resources.runs).toMatchObject({
      url: '/api/runs',
      description: 'Interact with runs',
    });
  });

  it('schedules `curl -d @examples/seed.json` (curl sends it as a form) and a body with no type', async () => {
    const { stdout } = await execFileAsync('curl', [
      '-sS',
      '-o',
      '-',
      '-w',
      '\\n%{http_code}',
      '-d',
      `@${seedFile}`,
      `${h.url}/api/runs`,
    ]);
    const [body = '', code] = [stdout.slice(0, stdout.lastIndexOf('\n')), stdout.split('\n').pop()];
    expect(code, body).toBe('202');
    expect((JSON.parse(body) as RunBody).metadata.uid).toMatch(UID);
    // No Content-Type at all: JSON read as JSON, anything else as YAML.
    for (const text of [JSON.stringify(SEED), SEED_YAML]) {
      const res = await fetch(`${h.url}/api/runs`, {
        method: 'POST',
        body: new TextEncoder().encode(text),
      });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.status, await res.clone().text()).toBe(202);
    }
  });

  it('reads a form-typed YAML body as YAML, and locates a syntax error in it', async () => {
    const ok = await post(h.url, '/api/runs', SEED_YAML, 'application/x-www-form-urlencoded');
    expect(ok.status, await ok.clone().text()).toBe(202);
    const bad = await expectError(
      await post(
        h.url,
        '/api/runs',
        '{"kind": "Pipeline", "jobs": {',
        'application/x-www-form-urlencoded',
      ),
      400,
    );
    expect(bad.error).toMatch(/line 1/);
  });

  it('accepts POST /api/runs/ (trailing slash)', async () => {
    const res = await post(h.url, '/api/runs/', JSON.stringify(SEED), 'application/json');
    expect(res.status, await res.clone().text()).toBe(202);
    expect(res.headers.get('location')).toMatch(/^\/api\/runs\/[0-9a-f-]{36}$/);
  });
});

describe('runs', () => {
  it('GET of an unknown run or a non-uid answers 404', async () => {
    const unknown = await expectError(await fetch(`${h.url}/api/runs/${UNKNOWN_UID}`), 404);
    expect(unknown.error).toBe(`run ${UNKNOWN_UID} not found`);
    const notUid = await expectError(await fetch(`${h.url}/api/runs/not-a-uid`), 404);
    expect(notUid.error).toBe('run not-a-uid not found');
  });

  it('answers 405 with Allow to a wrong method', async () => {
    const del = await fetch(`${h.url}/api/runs`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    const allow = (del.headers.get('allow') ?? '').split(/,\s*/);
    expect(allow).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(allow).not.toContain('DELETE');
    expect(((await del.json()) as ErrorBody).kind).toBe('Error');

    const run = await submit(idle.url, SEED);
    const cancel = await fetch(`${idle.url}/api/runs/${run.metadata.uid}/cancel`);
    expect(cancel.status).toBe(405);
    expect(cancel.headers.get('allow')).toBe('POST');
    expect(((await cancel.json()) as ErrorBody).kind).toBe('Error');

    const put = await fetch(`${h.url}/api/runs/${UNKNOWN_UID}`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
  });

  it('GET /api/runs lists runs newest first', async () => {
    const older = await submit(h.url, pipeline({ a: { run: 'true' } }));
    const newer = await submit(h.url, pipeline({ a: { run: 'true' } }));
    const res = await fetch(`${h.url}/api/runs`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as RunListBody;
    expect(list.kind).toBe('RunList');
    expect(list.metadata.selfLink).toBe('/api/runs');
    expect(list.items.slice(0, 2).map((r) => r.metadata.uid)).toEqual([
      newer.metadata.uid,
      older.metadata.uid,
    ]);
    for (const item of list.items) {
      expect(item.kind).toBe('Run');
      expect(item.metadata.selfLink).toBe(`/api/runs/${item.metadata.uid}`);
    }
    await waitForEnd(h.url, newer.metadata.uid);
    await waitForEnd(h.url, older.metadata.uid);
  });

  it('pages through runs with limit and continue', async () => {
    const harness = await startInProcess(redis.url, { work: false });
    try {
      const created: string[] = [];
      for (let i = 0; i < 7; i++)
        created.push((await submit(harness.url, pipeline({ a: { run: 'true' } }))).metadata.uid);
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let token: string | undefined;
      for (let page = 0; page < 10; page++) {
        const query = `limit=3${token === undefined ? '' : `&continue=${encodeURIComponent(token)}`}`;
        const res = await fetch(`${harness.url}/api/runs?${query}`);
        expect(res.status).toBe(200);
        const list = (await res.json()) as RunListBody;
        pageSizes.push(list.items.length);
        seen.push(...list.items.map((r) => r.metadata.uid));
        for (const item of list.items) expect(item.status).toBe('PENDING');
        token = list.metadata.continue;
        if (token === undefined) break;
      }
      expect(pageSizes).toEqual([3, 3, 1]);
      expect(seen).toEqual([...created].reverse());
      expect(new Set(seen).size).toBe(7);

      const all = (await (await fetch(`${harness.url}/api/runs?limit=7`)).json()) as RunListBody;
      expect(all.items).toHaveLength(7);
      expect(all.metadata.continue).toBeUndefined();
    } finally {
      await harness.stop();
    }
  });

  it('rejects an invalid continue token or limit', async () => {
    const token = await expectError(await fetch(`${h.url}/api/runs?continue=garbage`), 400);
    expect(token.error).toMatch(/^continue: /);
    for (const limit of ['0', 'abc', '-1', '501']) {
      const body = await expectError(await fetch(`${h.url}/api/runs?limit=${limit}`), 400);
      expect(body.error, limit).toMatch(/limit/);
    }
  });
});

describe('cancel', () => {
  it('stops the running job and its process, and cancels the rest', async () => {
    const dir = mkdtempSync(join(scratch, 'cancel-'));
    const pidFile = join(dir, 'pid');
    const run = await submit(
      h.url,
      pipeline({
        sleeper: { run: `echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}; exec sleep 30` },
        after: { run: 'true', dependsOn: [{ job: 'sleeper' }] },
      }),
    );
    const uid = run.metadata.uid;
    await jobRunning(h.url, uid, 'sleeper');
    const pid = await until(
      () =>
        Promise.resolve(
          existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined,
        ),
      'the job to write its pid',
    );
    expect(isRunning(pid)).toBe(true);

    const canceledAt = Date.now();
    const res = await fetch(`${h.url}/api/runs/${uid}/cancel`, { method: 'POST' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as RunBody;
    expect(body.kind).toBe('Run');
    expect(body.status).toBe('CANCELED');
    expect(statuses(body)).toEqual({ sleeper: 'CANCELED', after: 'CANCELED' });

    await until(() => !isRunning(pid), 'the job process to be gone', 5000);
    expect(Date.now() - canceledAt).toBeLessThan(5000);
    const ended = await getRun(h.url, uid);
    expect(ended.status).toBe('CANCELED');
    expect(ended.reason).toBe('canceled by request');
    expect(statuses(ended)).toEqual({ sleeper: 'CANCELED', after: 'CANCELED' });
    expect(ended.jobs[0]?.reason).toBe('canceled by request');

    // Canceling again: the run has ended.
    const again = await expectError(
      await fetch(`${h.url}/api/runs/${uid}/cancel`, { method: 'POST' }),
      409,
    );
    expect(again.error).toBe(`run ${uid} already ended (CANCELED)`);
  });

  it('answers 409 for a run that ended and 404 for an unknown run', async () => {
    const run = await waitForEnd(
      h.url,
      (await submit(h.url, pipeline({ a: { run: 'true' } }))).metadata.uid,
    );
    const ended = await expectError(
      await fetch(`${h.url}/api/runs/${run.metadata.uid}/cancel`, { method: 'POST' }),
      409,
    );
    expect(ended.error).toBe(`run ${run.metadata.uid} already ended (SUCCESSFUL)`);
    const unknown = await expectError(
      await fetch(`${h.url}/api/runs/${UNKNOWN_UID}/cancel`, { method: 'POST' }),
      404,
    );
    expect(unknown.error).toBe(`run ${UNKNOWN_UID} not found`);
    await expectError(await fetch(`${h.url}/api/runs/nope/cancel`, { method: 'POST' }), 404);
  });

  it('cancels a run that has not started', async () => {
    const run = await submit(idle.url, SEED);
    const res = await fetch(`${idle.url}/api/runs/${run.metadata.uid}/cancel`, { method: 'POST' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as RunBody;
    expect(body.status).toBe('CANCELED');
    expect(Object.values(statuses(body))).toEqual(['CANCELED', 'CANCELED', 'CANCELED', 'CANCELED']);
  });
});

describe('logs', () => {
  it("returns a job's log as text after the end", async () => {
    const run = await submit(
      h.url,
      pipeline({
        talk: { run: "echo hello; sleep 0.2; echo oops >&2; sleep 0.2; printf 'a\\nb\\n'" },
      }),
    );
    const uid = run.metadata.uid;
    expect((await waitForEnd(h.url, uid)).status).toBe('SUCCESSFUL');
    const res = await fetch(`${h.url}/api/runs/${uid}/jobs/talk/logs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('hello\noops\na\nb\n');
  });

  it('keeps the order of each stream for lines written in one burst', async () => {
    const run = await submit(
      h.url,
      pipeline({ burst: { run: "echo hello; echo oops >&2; printf 'a\\nb\\n'" } }),
    );
    await waitForEnd(h.url, run.metadata.uid);
    const lines = (
      await (await fetch(`${h.url}/api/runs/${run.metadata.uid}/jobs/burst/logs`)).text()
    ).split('\n');
    // stdout and stderr are two pipes: their lines may interleave differently, never reorder within one.
    expect(lines.filter((l) => l !== 'oops')).toEqual(['hello', 'a', 'b', '']);
    expect(lines).toContain('oops');
  });

  it('answers an empty log for a job that printed nothing, 404 for an unknown job or run', async () => {
    const run = await waitForEnd(
      h.url,
      (await submit(h.url, pipeline({ quiet: { run: 'true' } }))).metadata.uid,
    );
    const uid = run.metadata.uid;
    const empty = await fetch(`${h.url}/api/runs/${uid}/jobs/quiet/logs`);
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe('');
    const job = await expectError(await fetch(`${h.url}/api/runs/${uid}/jobs/nope/logs`), 404);
    expect(job.error).toBe(`run ${uid} has no job "nope"`);
    const follow = await expectError(
      await fetch(`${h.url}/api/runs/${uid}/jobs/nope/logs?follow=true`),
      404,
    );
    expect(follow.error).toBe(`run ${uid} has no job "nope"`);
    await expectError(await fetch(`${h.url}/api/runs/${UNKNOWN_UID}/jobs/quiet/logs`), 404);
  });

  it('follows a running job until it ends', async () => {
    const run = await submit(
      h.url,
      pipeline({ count: { run: 'for i in 1 2 3; do echo line$i; sleep 0.3; done' } }),
    );
    const uid = run.metadata.uid;
    await jobRunning(h.url, uid, 'count');
    const res = await fetch(`${h.url}/api/runs/${uid}/jobs/count/logs?follow=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await withTimeout(res.text(), 10_000, 'the followed log to end');
    const endedAt = Date.now();
    expect(text).toBe('line1\nline2\nline3\n');
    const job = (await getRun(h.url, uid)).jobs[0];
    expect(job?.status).toBe('SUCCESSFUL');
    const finished = Date.parse(job?.finishedAt ?? '');
    expect(endedAt).toBeGreaterThanOrEqual(finished);
    expect(endedAt - finished).toBeLessThan(3000);
  });

  it("separates a retried job's attempts, and reads one attempt with ?attempt=", async () => {
    const run = await submit(h.url, {
      kind: 'Pipeline',
      jobs: {
        flaky: {
          image: 'busybox',
          run: 'echo "try $CHAINR_ATTEMPT"; echo "out $CHAINR_ATTEMPT" >&2; [ "$CHAINR_ATTEMPT" = 3 ]',
          retries: { limit: 2, backoff: { type: 'fixed', delay: '10ms' } },
        },
      },
    });
    const uid = run.metadata.uid;
    const ended = (await waitForEnd(h.url, uid)) as FullRun & {
      jobs: { attempts?: { attempt: number; startedAt?: string }[] }[];
    };
    expect(ended.status).toBe('SUCCESSFUL');
    const started = (ended.jobs[0]?.attempts ?? []).map((a) => a.startedAt);
    expect(started).toHaveLength(3);
    const logs = `${h.url}/api/runs/${uid}/jobs/flaky/logs`;
    const whole = (await (await fetch(logs)).text()).split('\n');
    // stdout and stderr are two pipes: within an attempt, their lines may come in either order.
    expect(whole.filter((l) => !l.startsWith('out '))).toEqual([
      'try 1',
      `── attempt 2 · started ${started[1]} ──`,
      'try 2',
      `── attempt 3 · started ${started[2]} ──`,
      'try 3',
      '',
    ]);
    expect(whole.indexOf('out 2')).toBeGreaterThan(whole.indexOf('try 1'));
    expect(whole.indexOf('out 2')).toBeLessThan(whole.indexOf('try 3'));
    for (const n of [1, 2, 3]) {
      const one = await fetch(`${logs}?attempt=${n}`);
      expect(one.status).toBe(200);
      expect((await one.text()).split('\n').sort()).toEqual(['', `out ${n}`, `try ${n}`]);
    }
    // An ended attempt followed is its lines, then the end.
    const followed = await fetch(`${logs}?attempt=2&follow=true`);
    expect((await withTimeout(followed.text(), 5000, 'the attempt')).split('\n').sort()).toEqual([
      '',
      'out 2',
      'try 2',
    ]);
    for (const bad of ['0', 'two', '1.5']) {
      const body = await expectError(await fetch(`${logs}?attempt=${bad}`), 400);
      expect(body.error).toMatch(/^querystring\.attempt: /);
    }
    const beyond = await expectError(await fetch(`${logs}?attempt=4`), 404);
    expect(beyond.error).toBe(
      `attempt: job "flaky" of run ${uid} is at attempt 3; it has no attempt 4`,
    );
    // ?skip= leaves out the lines a reader already has, marker lines counted, followed or not.
    for (const skip of [0, 3, 5, whole.length - 1, whole.length + 10]) {
      const expected = whole
        .slice(0, -1)
        .slice(skip)
        .map((l) => `${l}\n`)
        .join('');
      expect(await (await fetch(`${logs}?skip=${skip}`)).text()).toBe(expected);
      const followedRest = await fetch(`${logs}?skip=${skip}&follow=true`);
      expect(await withTimeout(followedRest.text(), 5000, 'the rest')).toBe(expected);
    }
    expect((await fetch(`${logs}?attempt=2&skip=1`)).status).toBe(200);
    const negative = await expectError(await fetch(`${logs}?skip=-1`), 400);
    expect(negative.error).toMatch(/^querystring\.skip: /);
  });

  it('follows one attempt of a running job until it fails and the next one begins', async () => {
    const dir = mkdtempSync(join(scratch, 'attempt-'));
    const run = await submit(h.url, {
      kind: 'Pipeline',
      jobs: {
        slow: {
          image: 'busybox',
          // Each attempt waits for a file of its own: the second still runs when the first ended.
          run: `echo "begin $CHAINR_ATTEMPT"; while [ ! -e ${dir}/go$CHAINR_ATTEMPT ]; do sleep 0.05; done; echo "end $CHAINR_ATTEMPT"; [ "$CHAINR_ATTEMPT" = 2 ]`,
          retries: { limit: 1, backoff: { type: 'fixed', delay: '10ms' } },
        },
      },
    });
    const uid = run.metadata.uid;
    await jobRunning(h.url, uid, 'slow');
    const res = await fetch(`${h.url}/api/runs/${uid}/jobs/slow/logs?attempt=1&follow=true`);
    expect(res.status).toBe(200);
    writeFileSync(join(dir, 'go1'), '');
    expect(await withTimeout(res.text(), 10_000, 'the first attempt to end')).toBe(
      'begin 1\nend 1\n',
    );
    const job = (await getRun(h.url, uid)).jobs[0] as { status: string; attempt?: number };
    expect(job.attempt).toBe(2);
    expect(job.status).not.toBe('SUCCESSFUL');
    writeFileSync(join(dir, 'go2'), '');
    expect((await waitForEnd(h.url, uid)).status).toBe('SUCCESSFUL');
  });

  it('follows an ended job: the whole log, then the end', async () => {
    const run = await waitForEnd(
      h.url,
      (await submit(h.url, pipeline({ done: { run: 'echo x; echo y' } }))).metadata.uid,
    );
    const res = await fetch(`${h.url}/api/runs/${run.metadata.uid}/jobs/done/logs?follow=true`);
    expect(res.status).toBe(200);
    expect(await withTimeout(res.text(), 5000, 'the log')).toBe('x\ny\n');
  });
});

describe('events (SSE)', () => {
  it("streams a run's snapshot, its transitions, then end, and closes", async () => {
    const dir = mkdtempSync(join(scratch, 'sse-'));
    const go = join(dir, 'go');
    const run = await submit(
      h.url,
      pipeline({
        gate: { run: `while [ ! -e ${go} ]; do sleep 0.05; done` },
        next: { run: 'true', dependsOn: [{ job: 'gate' }] },
        fallback: { run: 'true', dependsOn: [{ job: 'gate', conditions: { failure: true } }] },
      }),
    );
    const uid = run.metadata.uid;
    await jobRunning(h.url, uid, 'gate');
    const stream = await EventStream.open(`${h.url}/api/runs/${uid}/events`);
    try {
      expect(stream.response?.status).toBe(200);
      expect(stream.response?.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const snapshot = await stream.next();
      expect(snapshot?.event).toBe('run');
      const snap = snapshot?.data as RunBody;
      expect(snap.kind).toBe('Run');
      expect(snap.metadata.uid).toBe(uid);
      expect(snap.status).toBe('RUNNING');
      expect(statuses(snap)).toEqual({ gate: 'RUNNING', next: 'PENDING', fallback: 'PENDING' });
      // with its pipeline, which tells a watcher a fan-out's instances (docs/CLI.md)
      expect(Object.keys((snap as { pipeline?: { jobs: object } }).pipeline?.jobs ?? {})).toEqual([
        'gate',
        'next',
        'fallback',
      ]);

      writeFileSync(go, '');
      const events = await stream.until((e) => e.event === 'end');
      const end = events.pop();
      expect(end?.data).toEqual({ uid, status: 'SUCCESSFUL' });
      for (const e of events) {
        expect(['job', 'run']).toContain(e.event);
        expect((e.data as EventData).uid).toBe(uid);
        expect(e.id).toMatch(/^\d+-\d+$/);
      }
      const transitions = events.map((e) => {
        const d = e.data as EventData;
        return `${e.event}:${d.job ?? ''}:${d.status}`;
      });
      expect(transitions).toEqual([
        'job:gate:SUCCESSFUL',
        'job:fallback:SKIPPED',
        'job:next:RUNNING',
        'job:next:SUCCESSFUL',
        'run::SUCCESSFUL',
      ]);
      const skipped = events[1]?.data as EventData;
      expect(skipped.reason).toMatch(/"gate"/);
      expect(await stream.next()).toBeUndefined();
    } finally {
      stream.close();
    }
  });

  it('sends the snapshot of an ended run, then end, and closes', async () => {
    const run = await waitForEnd(h.url, (await submit(h.url, SEED)).metadata.uid);
    const stream = await EventStream.open(`${h.url}/api/runs/${run.metadata.uid}/events`);
    try {
      const snapshot = await stream.next();
      expect(snapshot?.event).toBe('run');
      expect((snapshot?.data as RunBody).status).toBe('SUCCESSFUL');
      expect(statuses(snapshot?.data as RunBody)).toEqual(statuses(run));
      const end = await stream.next();
      expect(end?.event).toBe('end');
      expect(end?.data).toEqual({ uid: run.metadata.uid, status: 'SUCCESSFUL' });
      expect(await stream.next()).toBeUndefined();
    } finally {
      stream.close();
    }
  });

  it('answers 404 for the events of an unknown run', async () => {
    await expectError(await fetch(`${h.url}/api/runs/${UNKNOWN_UID}/events`), 404);
    await expectError(await fetch(`${h.url}/api/runs/not-a-uid/events`), 404);
  });

  it('GET /api/events streams the transitions of runs submitted after connecting', async () => {
    const stream = await EventStream.open(`${h.url}/api/events`);
    try {
      expect(stream.response?.status).toBe(200);
      expect(stream.response?.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const run = await submit(h.url, SEED);
      const uid = run.metadata.uid;
      const events = await stream.until((e) => {
        const d = e.data as EventData;
        return e.event === 'run' && d.uid === uid && d.status === 'SUCCESSFUL';
      });
      const mine = events.filter((e) => (e.data as EventData).uid === uid);
      for (const e of mine)
        expect(e.event).toBe((e.data as EventData).job === undefined ? 'run' : 'job');
      const jobEvents = mine.filter((e) => e.event === 'job').map((e) => e.data as EventData);
      const byJob = (job: string) => jobEvents.filter((d) => d.job === job).map((d) => d.status);
      expect(byJob('first')).toEqual(['RUNNING', 'SUCCESSFUL']);
      expect(byJob('second')).toEqual(['RUNNING', 'SUCCESSFUL']);
      expect(byJob('success')).toEqual(['RUNNING', 'SUCCESSFUL']);
      expect(byJob('error')).toEqual(['SKIPPED']);
      const runEvents = mine
        .filter((e) => e.event === 'run')
        .map((e) => (e.data as EventData).status);
      expect(runEvents).toEqual(['PENDING', 'RUNNING', 'SUCCESSFUL']);
      const ids = mine.map((e) => e.id ?? '');
      expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true);

      // Resuming with Last-Event-ID replays what followed that event.
      const resumed = await EventStream.open(`${h.url}/api/events`, {
        'last-event-id': ids[0] ?? '',
      });
      try {
        const replayed = await resumed.until((e) => e.id === ids[ids.length - 1]);
        expect(replayed.filter((e) => (e.data as EventData).uid === uid)).toEqual(mine.slice(1));
      } finally {
        resumed.close();
      }
    } finally {
      stream.close();
    }
  });
});
