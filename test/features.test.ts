/**
 * The pipeline features of issue 3 end to end, through the HTTP API on the local executor:
 * retries with backoff, timeouts, `always` cleanup, outputs, params, concurrency limits,
 * retry in place and resubmit, metadata and list filters.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatus, RunStatus } from '../src/core/types.ts';
import { LocalExecutor } from '../src/executors/local.ts';
import { getRun, statuses, waitForEnd, type RunBody } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until, isRunning } from './fixtures/wait.ts';

interface Attempt {
  attempt: number;
  status: JobStatus;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
}

type Job = RunBody['jobs'][number] & {
  attempt: number;
  attempts: Attempt[];
  outputs?: Record<string, string>;
};

type Run = Omit<RunBody, 'jobs' | 'metadata'> & {
  metadata: { uid: string; selfLink: string; name?: string; labels?: Record<string, string> };
  params?: Record<string, string>;
  jobs: Job[];
};

interface ErrorBody {
  kind: 'Error';
  error: string;
  details?: { path: string; message: string }[];
}

interface RunList {
  kind: 'RunList';
  items: Run[];
}

let redis: TestRedis;
/** sched and work, worker concurrency 8. */
let h: Harness;
/** Its own keys, so that list filters and counts see only the runs made for them. */
let lists: Harness;
/** A deployment-wide limit of one local job at a time. */
let limited: Harness;
let scratch: string;

beforeAll(async () => {
  redis = await startRedis();
  [h, lists, limited] = await Promise.all([
    startInProcess(redis.url),
    startInProcess(redis.url),
    startInProcess(redis.url, { executorLimits: { local: 1 } }),
  ]);
  scratch = mkdtempSync(join(tmpdir(), 'chainr-features-'));
});

afterAll(async () => {
  await Promise.all([h?.stop(), lists?.stop(), limited?.stop()]);
  await redis?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A fresh directory for one test's files. */
function dir(): string {
  const d = join(scratch, randomUUID().slice(0, 8));
  mkdirSync(d);
  return d;
}

function post(base: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
}

async function accepted(res: Response): Promise<Run> {
  const text = await res.text();
  expect(res.status, text).toBe(202);
  return JSON.parse(text) as Run;
}

async function rejected(res: Response, status: number): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.kind).toBe('Error');
  return body;
}

/** Submits a pipeline (or a {pipeline, params} submission) and waits for the run to end. */
async function runToEnd(base: string, body: unknown, timeoutMs = 30_000): Promise<Run> {
  const run = await accepted(await post(base, '/api/runs', body));
  return (await waitForEnd(base, run.metadata.uid, timeoutMs)) as unknown as Run;
}

async function get(base: string, uid: string): Promise<Run> {
  return (await getRun(base, uid)) as unknown as Run;
}

function jobOf(run: Run, name: string): Job {
  const job = run.jobs.find((j) => j.name === name);
  if (!job) throw new Error(`no job ${name} in ${JSON.stringify(run)}`);
  return job;
}

const ms = (iso: string | undefined): number => {
  if (iso === undefined) throw new Error('missing timestamp');
  return Date.parse(iso);
};

async function logOf(base: string, uid: string, job: string): Promise<string> {
  const res = await fetch(`${base}/api/runs/${uid}/jobs/${job}/logs`);
  expect(res.status).toBe(200);
  return res.text();
}

async function jobRunning(base: string, uid: string, job: string): Promise<void> {
  await until(async () => {
    const status = jobOf(await get(base, uid), job).status;
    if (status !== 'PENDING' && status !== 'RUNNING') throw new Error(`job ${job} is ${status}`);
    return status === 'RUNNING' ? true : undefined;
  }, `job ${job} to run`);
}

/** The most intervals [start, finish) open at once; a finish at the time of a start comes first. */
function maxOverlap(jobs: { startedAt?: string; finishedAt?: string }[]): number {
  const edges = jobs.flatMap((j) => [
    { t: ms(j.startedAt), d: 1 },
    { t: ms(j.finishedAt), d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let most = 0;
  for (const e of edges) {
    open += e.d;
    most = Math.max(most, open);
  }
  return most;
}

/** Shell: counts this job's executions in a file, and prints the count. */
const count = (file: string) =>
  `n=$(cat ${file} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${file}; echo "run $n"`;

const job = (run: string, extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  run,
  ...extra,
});

describe('retries', () => {
  it('runs a flaky job until its third attempt succeeds, with exponential backoff', async () => {
    const d = dir();
    const run = await runToEnd(h.url, {
      pipeline: {
        kind: 'Pipeline',
        params: { dir: {} },
        jobs: {
          flaky: job(`${count('"$CHAINR_PARAM_DIR"/flaky')}; [ "$n" -ge 3 ] || exit 7`, {
            retries: { limit: 3, backoff: { type: 'exponential', delay: '200ms' } },
          }),
          after: job('echo after', { dependsOn: [{ job: 'flaky' }] }),
        },
      },
      params: { dir: d },
    });
    expect(run.status).toBe('SUCCESSFUL');
    expect(readFileSync(join(d, 'flaky'), 'utf8').trim()).toBe('3');

    const flaky = jobOf(run, 'flaky');
    expect(flaky).toMatchObject({ status: 'SUCCESSFUL', attempt: 3, exitCode: 0 });
    expect(flaky.attempts.map((a) => [a.attempt, a.status, a.exitCode])).toEqual([
      [1, 'FAILED', 7],
      [2, 'FAILED', 7],
      [3, 'SUCCESSFUL', 0],
    ]);
    expect(flaky.attempts[0]?.reason).toBe('exit code 7');
    const [first, second, third] = flaky.attempts as [Attempt, Attempt, Attempt];
    for (const a of flaky.attempts)
      expect(ms(a.finishedAt)).toBeGreaterThanOrEqual(ms(a.startedAt));
    expect(ms(second.startedAt) - ms(first.finishedAt)).toBeGreaterThanOrEqual(200);
    expect(ms(third.startedAt) - ms(second.finishedAt)).toBeGreaterThanOrEqual(400);

    // The dependent waited for the final attempt.
    const after = jobOf(run, 'after');
    expect(after.status).toBe('SUCCESSFUL');
    expect(after.attempts).toHaveLength(1);
    expect(ms(after.startedAt)).toBeGreaterThanOrEqual(ms(third.finishedAt));
  });

  it('fails the job with its last attempt when every attempt fails, and skips dependents', async () => {
    const d = dir();
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        broken: job(`${count(`${d}/broken`)}; exit 3`, {
          retries: { limit: 2, backoff: { type: 'fixed', delay: '50ms' } },
        }),
        after: job('true', { dependsOn: [{ job: 'broken' }] }),
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.reason).toBe('job "broken" failed');
    const broken = jobOf(run, 'broken');
    expect(broken).toMatchObject({
      status: 'FAILED',
      attempt: 3,
      exitCode: 3,
      reason: 'exit code 3',
    });
    expect(broken.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'FAILED'],
      [2, 'FAILED'],
      [3, 'FAILED'],
    ]);
    expect(readFileSync(join(d, 'broken'), 'utf8').trim()).toBe('3');
    expect(jobOf(run, 'after').status).toBe('SKIPPED');
  });
});

describe('timeout', () => {
  it('stops a job that runs too long, with the reason "timed out after 1s"', async () => {
    const d = dir();
    const started = Date.now();
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        slow: job(`echo $$ > ${d}/pid; exec sleep 600`, { timeout: '1s' }),
        fast: job('sleep 0.2', { timeout: '10s' }),
      },
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.status).toBe('FAILED');
    expect(run.reason).toBe('job "slow" failed');
    const slow = jobOf(run, 'slow');
    expect(slow.status).toBe('FAILED');
    expect(slow.reason).toBe('timed out after 1s');
    const took = ms(slow.finishedAt) - ms(slow.startedAt);
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(10_000);
    expect(jobOf(run, 'fast').status).toBe('SUCCESSFUL');

    const pid = Number(readFileSync(join(d, 'pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    await until(() => !isRunning(pid), `sleep (pid ${pid}) to be gone`, 5000);
  });
});

describe('timeout: edge cases', () => {
  it("a timeout beyond setTimeout's 32-bit range (600h) does not fire at once", async () => {
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: { long: job('sleep 0.3', { timeout: '600h' }) },
    });
    expect(jobOf(run, 'long')).toMatchObject({ status: 'SUCCESSFUL', exitCode: 0 });
  });

  it('the local executor stops a job aborted while its working directory is being made', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = new LocalExecutor({ killGraceMs: 1000 }).run(
      { uid: 'u', job: 'j', attempt: 1, image: 'busybox', run: 'sleep 5', env: {} },
      { onLog: () => undefined, signal: controller.signal },
    );
    // run() has checked the signal and is awaiting mkdtemp: the abort lands in between.
    controller.abort('timed out after 1ms');
    expect(await running).toEqual({
      status: 'FAILED',
      exitCode: null,
      reason: 'timed out after 1ms',
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('a timeout that fires while the job is being set up still stops it', async () => {
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: { quick: job('sleep 5', { timeout: '1ms' }) },
    });
    const quick = jobOf(run, 'quick');
    expect(quick).toMatchObject({ status: 'FAILED', reason: 'timed out after 1ms' });
    expect(ms(quick.finishedAt) - ms(quick.startedAt)).toBeLessThan(4000);
  });
});

describe('always: cleanup jobs', () => {
  const cleanupPipeline = (d: string, buildRun: string) => ({
    kind: 'Pipeline',
    jobs: {
      build: job(buildRun),
      deploy: job('true', { dependsOn: [{ job: 'build' }] }),
      cleanup: job(`touch ${d}/cleaned`, {
        dependsOn: [
          { job: 'build', conditions: { always: true } },
          { job: 'deploy', conditions: { always: true } },
        ],
      }),
    },
  });

  it('runs after a failure (and a skip); the run is FAILED, naming the failed job', async () => {
    const d = dir();
    const run = await runToEnd(h.url, cleanupPipeline(d, 'exit 2'));
    expect(statuses(run as unknown as RunBody)).toEqual({
      build: 'FAILED',
      deploy: 'SKIPPED',
      cleanup: 'SUCCESSFUL',
    });
    expect(existsSync(join(d, 'cleaned'))).toBe(true);
    expect(run.status).toBe('FAILED');
    // A cleanup is not a fallback: the reason does not claim the failure was handled.
    expect(run.reason).toBe('job "build" failed');
    expect(ms(jobOf(run, 'cleanup').startedAt)).toBeGreaterThanOrEqual(
      ms(jobOf(run, 'build').finishedAt),
    );
  });

  it('runs after a success; the run is SUCCESSFUL', async () => {
    const d = dir();
    const run = await runToEnd(h.url, cleanupPipeline(d, 'true'));
    expect(statuses(run as unknown as RunBody)).toEqual({
      build: 'SUCCESSFUL',
      deploy: 'SUCCESSFUL',
      cleanup: 'SUCCESSFUL',
    });
    expect(existsSync(join(d, 'cleaned'))).toBe(true);
    expect(run.status).toBe('SUCCESSFUL');
    expect(run.reason).toBeUndefined();
    expect(ms(jobOf(run, 'cleanup').startedAt)).toBeGreaterThanOrEqual(
      ms(jobOf(run, 'deploy').finishedAt),
    );
  });

  it('keeps the fallback wording of the run reason for a failure handled by `failure: true`', async () => {
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        build: job('exit 1'),
        fallback: job('true', { dependsOn: [{ job: 'build', conditions: { failure: true } }] }),
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.reason).toBe(
      'job "build" failed (handled by a fallback; a run with a failed job is FAILED)',
    );
  });
});

describe('outputs', () => {
  it('flow from a job to each of its descendants as CHAINR_<JOB>_<KEY>', async () => {
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        build: job(
          'echo version=1.2.3 >> "$CHAINR_OUTPUTS"; printf "image_tag=x=y\\r\\n\\n" >> "$CHAINR_OUTPUTS"',
        ),
        version: job('echo "v=$CHAINR_BUILD_VERSION"', { dependsOn: [{ job: 'build' }] }),
        tag: job('echo "t=$CHAINR_BUILD_IMAGE_TAG"', { dependsOn: [{ job: 'build' }] }),
        unrelated: job('echo "u=${CHAINR_BUILD_VERSION-unset}"'),
        grandchild: job('echo "g=${CHAINR_BUILD_VERSION-unset}"', {
          dependsOn: [{ job: 'version' }],
        }),
      },
    });
    expect(run.status).toBe('SUCCESSFUL');
    const uid = run.metadata.uid;
    expect(jobOf(run, 'build').outputs).toEqual({ version: '1.2.3', image_tag: 'x=y' });
    expect(jobOf(run, 'version').outputs).toBeUndefined();
    expect(await logOf(h.url, uid, 'version')).toBe('v=1.2.3\n');
    expect(await logOf(h.url, uid, 'tag')).toBe('t=x=y\n');
    expect(await logOf(h.url, uid, 'unrelated')).toBe('u=unset\n');
    expect(await logOf(h.url, uid, 'grandchild')).toBe('g=1.2.3\n');
  });

  it('reach a fan-in and its cleanup from any ancestor, by variable and by ${{ jobs.<name>.outputs.<key> }}', async () => {
    const extract = (part: string) => job(`echo "rows=${part}" >> "$CHAINR_OUTPUTS"`);
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        'extract-a': extract('10'),
        'extract-b': extract('20'),
        'extract-c': extract('30'),
        merge: job('echo "total=60" >> "$CHAINR_OUTPUTS"', {
          dependsOn: [{ job: 'extract-a' }, { job: 'extract-b' }, { job: 'extract-c' }],
        }),
        load: job('echo "a=$CHAINR_EXTRACT_A_ROWS total=$CHAINR_MERGE_TOTAL"', {
          dependsOn: [{ job: 'merge' }],
        }),
        cleanup: job('echo "c=$FROM_B/$CHAINR_EXTRACT_C_ROWS"', {
          dependsOn: [{ job: 'load', conditions: { always: true } }],
          env: { FROM_B: 'b:${{ jobs.extract-b.outputs.rows }}${{ jobs.merge.outputs.none }}' },
        }),
      },
    });
    expect(run.status).toBe('SUCCESSFUL');
    const uid = run.metadata.uid;
    expect(await logOf(h.url, uid, 'load')).toBe('a=10 total=60\n');
    expect(await logOf(h.url, uid, 'cleanup')).toBe('c=b:20/30\n');
  });

  it('reach a program given as command and args, with parameters, as written', async () => {
    const run = await runToEnd(h.url, {
      pipeline: {
        kind: 'Pipeline',
        params: { who: {} },
        jobs: {
          build: job('echo "version=1.2.3" >> "$CHAINR_OUTPUTS"'),
          report: {
            image: 'busybox',
            dependsOn: [{ job: 'build' }],
            command: ['printf', '%s|%s|%s\\n'],
            args: ['${{ params.who }}', 'v${{ jobs.build.outputs.version }}', '$CHAINR_PARAM_WHO'],
          },
        },
      },
      params: { who: "it's $(id) *" },
    });
    expect(run.status).toBe('SUCCESSFUL');
    expect(await logOf(h.url, run.metadata.uid, 'report')).toBe(
      "it's $(id) *|v1.2.3|$CHAINR_PARAM_WHO\n",
    );
  });

  it('refuse a reference to a job that is not an ancestor, naming where', async () => {
    const body = await rejected(
      await post(h.url, '/api/runs', {
        kind: 'Pipeline',
        jobs: {
          a: job('true'),
          b: job('true', { env: { X: '${{ jobs.a.outputs.k }}' } }),
        },
      }),
      400,
    );
    expect(body.details).toEqual([
      {
        path: 'jobs.b.env.X',
        message:
          'job "a" is not an ancestor of "b": a job reads the outputs of the jobs it depends on, directly or through others',
        line: 1,
        column: 112,
      },
    ]);
  });

  it('fail the job when over 4 KiB or not key=value, saying why', async () => {
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        big: job('head -c 5000 /dev/zero | tr "\\0" x | sed "s/^/k=/" > "$CHAINR_OUTPUTS"'),
        bad: job('echo "not an output" > "$CHAINR_OUTPUTS"'),
        after: job('true', { dependsOn: [{ job: 'big' }] }),
      },
    });
    expect(run.status).toBe('FAILED');
    const big = jobOf(run, 'big');
    expect(big.status).toBe('FAILED');
    expect(big.reason).toMatch(/^outputs are 500[0-9] bytes, more than the limit of 4096$/);
    expect(big.outputs).toBeUndefined();
    expect(jobOf(run, 'bad')).toMatchObject({
      status: 'FAILED',
      reason: `outputs line 1 is not key=value with a key of letters, digits and '_': "not an output"`,
    });
    expect(jobOf(run, 'after').status).toBe('SKIPPED');
  });
});

describe('params', () => {
  const pipeline = (file: string) => ({
    kind: 'Pipeline',
    params: { message: { description: 'any text' }, greeting: { default: 'hi' } },
    jobs: {
      say: job(
        // printf, not echo: dash's echo interprets backslashes in its arguments.
        `printf '%s' "$CHAINR_PARAM_MESSAGE" > ${file}; printf '%s\\n' "$CHAINR_PARAM_MESSAGE"; echo "g=$GREETING"`,
        { env: { GREETING: '${{ params.greeting }}!' } },
      ),
    },
  });

  it('reach the job unchanged, whatever quotes, ;, $(...), backquotes and newlines they hold', async () => {
    const d = dir();
    const message = `it's "quoted"; $(touch ${d}/pwned) \`touch ${d}/pwned2\` $HOME \\n * \nsecond line`;
    const run = await runToEnd(h.url, {
      pipeline: pipeline(join(d, 'out')),
      params: { message },
    });
    expect(run.status).toBe('SUCCESSFUL');
    expect(readFileSync(join(d, 'out'), 'utf8')).toBe(message);
    expect(existsSync(join(d, 'pwned'))).toBe(false);
    expect(existsSync(join(d, 'pwned2'))).toBe(false);
    expect(await logOf(h.url, run.metadata.uid, 'say')).toBe(`${message}\ng=hi!\n`);
    expect(run.params).toEqual({ message, greeting: 'hi' });
  });

  it('use the given value over the default', async () => {
    const d = dir();
    const run = await runToEnd(h.url, {
      pipeline: pipeline(join(d, 'out')),
      params: { message: 'm', greeting: 'hello' },
    });
    expect(run.params).toEqual({ message: 'm', greeting: 'hello' });
    expect(await logOf(h.url, run.metadata.uid, 'say')).toBe('m\ng=hello!\n');
  });

  it('reject a submission without a required param, naming it', async () => {
    const body = await rejected(
      await post(h.url, '/api/runs', { pipeline: pipeline('/dev/null'), params: {} }),
      400,
    );
    expect(body.error).toContain('params.message');
    expect(body.details).toEqual([
      { path: 'params.message', message: 'is required (it has no default)' },
    ]);
    // A bare pipeline gives no params at all.
    const bare = await rejected(await post(h.url, '/api/runs', pipeline('/dev/null')), 400);
    expect(bare.error).toContain('params.message');
  });

  it('reject an unknown param, a value that is not a string, and an unknown wrapper key', async () => {
    const unknown = await rejected(
      await post(h.url, '/api/runs', {
        pipeline: pipeline('/dev/null'),
        params: { message: 'm', nope: 'x' },
      }),
      400,
    );
    expect(unknown.error).toContain('params.nope');
    expect(unknown.details?.map((e) => e.path)).toEqual(['params.nope']);

    const number = await rejected(
      await post(h.url, '/api/runs', { pipeline: pipeline('/dev/null'), params: { message: 1 } }),
      400,
    );
    expect(number.error).toContain('params: must be an object of strings');

    const wrapper = await rejected(
      await post(h.url, '/api/runs', {
        pipeline: pipeline('/dev/null'),
        params: { message: 'm' },
        parameters: {},
      }),
      400,
    );
    expect(wrapper.error).toContain('unknown field "parameters"');
  });

  it('reject a reference to an undeclared param, with its path', async () => {
    const body = await rejected(
      await post(h.url, '/api/runs', {
        kind: 'Pipeline',
        jobs: { a: job('true', { env: { X: '${{ params.nope }}' } }) },
      }),
      400,
    );
    expect(body.details?.[0]).toMatchObject({
      path: 'jobs.a.env.X',
      message: 'unknown parameter "nope": declare it under params',
    });
  });
});

describe('concurrency', () => {
  it('never runs more jobs of a run at once than its limit', async () => {
    const jobs = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`j${i}`, job('sleep 0.3')]),
    );
    const run = await runToEnd(h.url, { kind: 'Pipeline', concurrency: 2, jobs });
    expect(run.status).toBe('SUCCESSFUL');
    expect(Object.values(statuses(run as unknown as RunBody))).toEqual(Array(8).fill('SUCCESSFUL'));
    expect(maxOverlap(run.jobs)).toBe(2);
  });

  it('counts dependents and retries against the limit too', async () => {
    const d = dir();
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      concurrency: 1,
      jobs: {
        a: job('sleep 0.1'),
        b: job(`${count(`${d}/b`)}; sleep 0.1; [ "$n" -ge 2 ]`, {
          retries: { limit: 1, backoff: { delay: '100ms' } },
        }),
        c: job('sleep 0.1', { dependsOn: [{ job: 'a' }] }),
        d: job('sleep 0.1', { dependsOn: [{ job: 'a' }] }),
      },
    });
    expect(run.status).toBe('SUCCESSFUL');
    const intervals = run.jobs.flatMap((j) => j.attempts);
    expect(intervals).toHaveLength(5);
    expect(maxOverlap(intervals)).toBe(1);
  });

  it('starts held jobs in the order they became ready, before later dependents', async () => {
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      concurrency: 1,
      jobs: {
        a: job('sleep 0.1'),
        b: job('sleep 0.1'),
        c: job('sleep 0.1'),
        d: job('sleep 0.1', { dependsOn: [{ job: 'a' }] }),
      },
    });
    expect(run.status).toBe('SUCCESSFUL');
    const order = [...run.jobs].sort((x, y) => ms(x.startedAt) - ms(y.startedAt));
    expect(order.map((j) => j.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(maxOverlap(run.jobs)).toBe(1);
  });

  it.each([
    ['independent jobs', { a: job('sleep 0.3'), b: job('sleep 0.3') }],
    // b runs next in a's worker slot (carried on): the slot still counts against the limit.
    ['a chain', { a: job('sleep 0.3'), b: job('sleep 0.3', { dependsOn: [{ job: 'a' }] }) }],
  ])('keeps a deployment-wide limit per executor across runs: %s', async (_, jobs) => {
    const pipeline = { kind: 'Pipeline', jobs };
    const runs = await Promise.all([
      runToEnd(limited.url, pipeline),
      runToEnd(limited.url, pipeline),
    ]);
    for (const run of runs) expect(run.status).toBe('SUCCESSFUL');
    expect(maxOverlap(runs.flatMap((r) => r.jobs))).toBe(1);
  });
});

describe('retry in place and resubmit', () => {
  const flakyPipeline = {
    kind: 'Pipeline',
    params: { dir: {} },
    jobs: {
      a: job(count('"$CHAINR_PARAM_DIR"/a')),
      b: job(
        'if [ -e "$CHAINR_PARAM_DIR"/flag ]; then echo ok; else touch "$CHAINR_PARAM_DIR"/flag; exit 4; fi',
        { dependsOn: [{ job: 'a' }] },
      ),
      c: job(count('"$CHAINR_PARAM_DIR"/c'), { dependsOn: [{ job: 'b' }] }),
    },
  };

  it('re-runs the failed and skipped jobs of a run, keeping the successful ones', async () => {
    const d = dir();
    const failed = await runToEnd(h.url, { pipeline: flakyPipeline, params: { dir: d } });
    const uid = failed.metadata.uid;
    expect(failed.status).toBe('FAILED');
    expect(statuses(failed as unknown as RunBody)).toEqual({
      a: 'SUCCESSFUL',
      b: 'FAILED',
      c: 'SKIPPED',
    });

    const retried = await accepted(await post(h.url, `/api/runs/${uid}/retry`));
    expect(retried.metadata.uid).toBe(uid);
    expect(retried.status).not.toBe('FAILED');
    const run = (await waitForEnd(h.url, uid)) as unknown as Run;
    expect(run.status).toBe('SUCCESSFUL');
    expect(run.reason).toBeUndefined();

    const a = jobOf(run, 'a');
    expect(a).toMatchObject({ status: 'SUCCESSFUL', attempt: 1 });
    expect(a.attempts).toHaveLength(1);
    expect(readFileSync(join(d, 'a'), 'utf8').trim()).toBe('1');
    expect(a.startedAt).toBe(jobOf(failed, 'a').startedAt);

    const b = jobOf(run, 'b');
    expect(b).toMatchObject({ status: 'SUCCESSFUL', attempt: 2, exitCode: 0 });
    expect(b.reason).toBeUndefined();
    expect(b.attempts.map((x) => [x.attempt, x.status, x.exitCode])).toEqual([
      [1, 'FAILED', 4],
      [2, 'SUCCESSFUL', 0],
    ]);
    expect(b.attempts[0]).toMatchObject({
      startedAt: jobOf(failed, 'b').startedAt,
      finishedAt: jobOf(failed, 'b').finishedAt,
      reason: 'exit code 4',
    });

    const c = jobOf(run, 'c');
    expect(c).toMatchObject({ status: 'SUCCESSFUL', attempt: 2 });
    expect(c.attempts.map((x) => [x.attempt, x.status])).toEqual([
      [1, 'SKIPPED'],
      [2, 'SUCCESSFUL'],
    ]);
    expect(readFileSync(join(d, 'c'), 'utf8').trim()).toBe('1');
    expect(ms(c.startedAt)).toBeGreaterThanOrEqual(ms(b.finishedAt));

    // Nothing left to retry.
    const again = await rejected(await post(h.url, `/api/runs/${uid}/retry`), 409);
    expect(again.error).toContain('SUCCESSFUL');

    // A resubmission is a new run of the same pipeline with the same params.
    const resubmitted = await accepted(await post(h.url, `/api/runs/${uid}/resubmit`));
    expect(resubmitted.metadata.uid).not.toBe(uid);
    expect(resubmitted.params).toEqual({ dir: d });
    const second = (await waitForEnd(h.url, resubmitted.metadata.uid)) as unknown as Run;
    expect(second.status).toBe('SUCCESSFUL');
    expect(second.jobs.map((j) => j.attempt)).toEqual([1, 1, 1]);
    expect(readFileSync(join(d, 'a'), 'utf8').trim()).toBe('2');
    expect((await get(h.url, uid)).status).toBe('SUCCESSFUL');
  });

  it('re-runs the fallback of a retried failure with it: once the job succeeds, its fallback is skipped', async () => {
    const d = dir();
    const pipeline = {
      kind: 'Pipeline',
      params: { dir: {} },
      jobs: {
        load: job(
          'if [ -e "$CHAINR_PARAM_DIR"/up ]; then echo loaded; else rm -f "$CHAINR_PARAM_DIR"/x; touch "$CHAINR_PARAM_DIR"/up; exit 1; fi',
        ),
        restore: job(count('"$CHAINR_PARAM_DIR"/restore'), {
          dependsOn: [{ job: 'load', conditions: { failure: true } }],
        }),
        report: job('echo report', { dependsOn: [{ job: 'load' }] }),
        publish: job('echo publish', { dependsOn: [{ anyOf: ['load', 'restore'] }] }),
      },
    };
    const failed = await runToEnd(h.url, { pipeline, params: { dir: d } });
    expect(statuses(failed as unknown as RunBody)).toEqual({
      load: 'FAILED',
      restore: 'SUCCESSFUL',
      report: 'SKIPPED',
      publish: 'SUCCESSFUL',
    });

    await accepted(await post(h.url, `/api/runs/${failed.metadata.uid}/retry`));
    const run = (await waitForEnd(h.url, failed.metadata.uid)) as unknown as Run;
    expect(run.status).toBe('SUCCESSFUL');
    expect(statuses(run as unknown as RunBody)).toEqual({
      load: 'SUCCESSFUL',
      restore: 'SKIPPED',
      report: 'SUCCESSFUL',
      publish: 'SUCCESSFUL',
    });
    // The fallback ran once, for the first attempt's failure; its run is in its history.
    expect(readFileSync(join(d, 'restore'), 'utf8').trim()).toBe('1');
    const restore = jobOf(run, 'restore');
    expect(restore.attempts.map((x) => [x.attempt, x.status])).toEqual([
      [1, 'SUCCESSFUL'],
      [2, 'SKIPPED'],
    ]);
    expect(restore.reason).toContain('dependency "load" ended SUCCESSFUL');
    expect(jobOf(run, 'publish').attempts.map((x) => x.status)).toEqual([
      'SUCCESSFUL',
      'SUCCESSFUL',
    ]);
  });

  it('refuses to retry a run that has not ended; retries a canceled one', async () => {
    const d = dir();
    const run = await accepted(
      await post(h.url, '/api/runs', {
        kind: 'Pipeline',
        jobs: {
          wait: job(
            `${count(`${d}/wait`)}; i=0; while [ ! -e ${d}/go ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done; [ -e ${d}/go ]`,
          ),
          after: job('true', { dependsOn: [{ job: 'wait' }] }),
        },
      }),
    );
    const uid = run.metadata.uid;
    await jobRunning(h.url, uid, 'wait');
    // RUNNING is recorded before the process starts: wait for the process itself.
    await until(() => (existsSync(join(d, 'wait')) ? true : undefined), 'the job to start');
    const refused = await rejected(await post(h.url, `/api/runs/${uid}/retry`), 409);
    expect(refused.error).toContain('RUNNING');

    await accepted(await post(h.url, `/api/runs/${uid}/cancel`));
    const canceled = (await waitForEnd(h.url, uid)) as unknown as Run;
    expect(canceled.status).toBe('CANCELED');
    writeFileSync(join(d, 'go'), '');

    await accepted(await post(h.url, `/api/runs/${uid}/retry`));
    const ended = (await waitForEnd(h.url, uid)) as unknown as Run;
    expect(ended.status).toBe('SUCCESSFUL');
    expect(jobOf(ended, 'wait').attempts.map((x) => [x.attempt, x.status])).toEqual([
      [1, 'CANCELED'],
      [2, 'SUCCESSFUL'],
    ]);
    expect(jobOf(ended, 'after').attempts.map((x) => [x.attempt, x.status])).toEqual([
      [1, 'CANCELED'],
      [2, 'SUCCESSFUL'],
    ]);
    expect(readFileSync(join(d, 'wait'), 'utf8').trim()).toBe('2');
  });

  it('answers 404 for the retry or resubmit of an unknown run', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000';
    await rejected(await post(h.url, `/api/runs/${unknown}/retry`), 404);
    await rejected(await post(h.url, `/api/runs/${unknown}/resubmit`), 404);
  });
});

describe('metadata, labels and list filters', () => {
  const ofRun = (name: string, labels: Record<string, string>, run: string) => ({
    kind: 'Pipeline',
    metadata: { name, labels },
    jobs: { only: job(run) },
  });
  let dev: Run;
  let prod: Run;
  let web: Run;

  beforeAll(async () => {
    dev = await runToEnd(lists.url, ofRun('etl', { app: 'etl', tier: 'dev' }, 'true'));
    prod = await runToEnd(lists.url, ofRun('etl', { app: 'etl', tier: 'prod' }, 'exit 1'));
    web = await runToEnd(lists.url, ofRun('other', { app: 'web' }, 'true'));
  });

  async function list(query: string): Promise<string[]> {
    const res = await fetch(`${lists.url}/api/runs?${query}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return (JSON.parse(text) as RunList).items.map((r) => r.metadata.uid);
  }

  it('shows name and labels on the run', () => {
    expect(dev.metadata).toMatchObject({ name: 'etl', labels: { app: 'etl', tier: 'dev' } });
    expect(web.metadata).toMatchObject({ name: 'other', labels: { app: 'web' } });
  });

  it('filters by name, label selector and status, newest first', async () => {
    const [d, p, w] = [dev, prod, web].map((r) => r.metadata.uid);
    expect(await list('')).toEqual([w, p, d]);
    expect(await list('name=etl')).toEqual([p, d]);
    expect(await list('name=other')).toEqual([w]);
    expect(await list('name=nope')).toEqual([]);
    expect(await list(`selector=${encodeURIComponent('app=etl,tier!=dev')}`)).toEqual([p]);
    expect(await list(`selector=${encodeURIComponent('app=etl')}`)).toEqual([p, d]);
    expect(await list(`selector=${encodeURIComponent('tier!=dev')}`)).toEqual([w, p]);
    expect(await list(`selector=${encodeURIComponent('!tier')}`)).toEqual([w]);
    expect(await list(`selector=${encodeURIComponent('tier')}`)).toEqual([p, d]);
    expect(await list('status=FAILED')).toEqual([p]);
    expect(await list('status=SUCCESSFUL')).toEqual([w, d]);
    expect(await list('status=RUNNING')).toEqual([]);
    expect(await list(`name=etl&status=SUCCESSFUL`)).toEqual([d]);
    expect(await list(`name=etl&selector=${encodeURIComponent('tier=prod')}`)).toEqual([p]);
    expect(await list('name=etl&limit=1')).toEqual([p]);
  });

  it('counts runs by status', async () => {
    const res = await fetch(`${lists.url}/api/runs/counts`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kind: string; counts: Record<RunStatus, number> };
    expect(body).toEqual({
      kind: 'RunCounts',
      counts: { PENDING: 0, RUNNING: 0, SUCCESSFUL: 2, FAILED: 1, CANCELED: 0 },
    });
  });

  it('keeps the status index right through a retry', async () => {
    const d = dir();
    const flag = join(d, 'flag');
    const run = await runToEnd(
      lists.url,
      ofRun('flip', { app: 'flip' }, `[ -e ${flag} ] || { touch ${flag}; exit 1; }`),
    );
    const uid = run.metadata.uid;
    expect(await list('status=FAILED&name=flip')).toEqual([uid]);
    await accepted(await post(lists.url, `/api/runs/${uid}/retry`));
    expect((await waitForEnd(lists.url, uid)).status).toBe('SUCCESSFUL');
    expect(await list('status=FAILED&name=flip')).toEqual([]);
    expect(await list('status=SUCCESSFUL&name=flip')).toEqual([uid]);
  });

  it('rejects an invalid selector or status', async () => {
    const selector = await rejected(
      await fetch(`${lists.url}/api/runs?selector=${encodeURIComponent('!app=etl')}`),
      400,
    );
    expect(selector.error).toBe(
      'selector: selector term "!app=etl" is not key=value, key!=value, key or !key',
    );
    await rejected(await fetch(`${lists.url}/api/runs?status=DONE`), 400);
  });
});

describe('executor', () => {
  it('runs a job that names the local executor', async () => {
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        a: job('echo local', {
          executor: 'local',
          resources: { requests: { cpu: '100m', memory: '16Mi' } },
        }),
      },
    });
    expect(run.status).toBe('SUCCESSFUL');
    expect(await logOf(h.url, run.metadata.uid, 'a')).toBe('local\n');
  });

  it('completes a job that names the noop executor without running it', async () => {
    const d = dir();
    const run = await runToEnd(h.url, {
      kind: 'Pipeline',
      jobs: {
        dry: job(`touch ${d}/ran`, { executor: 'noop' }),
        next: job(`touch ${d}/next`, { dependsOn: [{ job: 'dry' }] }),
      },
    });
    expect(statuses(run as unknown as RunBody)).toEqual({ dry: 'SUCCESSFUL', next: 'SUCCESSFUL' });
    expect(existsSync(join(d, 'ran'))).toBe(false);
    expect(existsSync(join(d, 'next'))).toBe(true);
  });
});
