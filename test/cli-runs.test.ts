/**
 * `chainr runs ...` as a real process against a real sched and worker on a real redis-server:
 * listing with filters, showing, retrying and resubmitting runs.
 */
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliTestbed, runChainr, type CliResult } from './fixtures/cli.ts';

const testbed = cliTestbed('cli-runs');

function chainr(args: string[]): Promise<CliResult> {
  // --server rather than CHAINR_SERVER, so that the flag is covered too
  return runChainr([...args, '--server', testbed.url()], { CHAINR_SERVER: 'http://127.0.0.1:1' });
}

interface RunJson {
  metadata: { uid: string; name?: string; labels?: Record<string, string> };
  status: string;
  jobs: { name: string; status: string; attempt?: number }[];
}

/** Submits a file with labels, waits for the run's end, and answers the run. */
async function submitted(name: string, yaml: string, labels: string[] = []): Promise<RunJson> {
  const path = testbed.path(name);
  writeFileSync(path, yaml);
  const args = ['submit', '-f', path, '-w', '-o', 'json', ...labels.flatMap((l) => ['-l', l])];
  const { stdout, stderr } = await chainr(args);
  if (!stdout) throw new Error(stderr);
  return JSON.parse(stdout) as RunJson;
}

const pipeline = (name: string, run: string) =>
  `kind: Pipeline\nmetadata: { name: ${name} }\njobs:\n  main: { image: busybox, run: '${run}' }\n  then: { image: busybox, run: echo then, dependsOn: [{ job: main }] }\n`;

let etl: RunJson;
let web: RunJson;
let flaky: RunJson;
let marker: string;

beforeAll(async () => {
  marker = testbed.path('second-time');
  // fails the first time, succeeds once the marker exists
  const flakyRun = `test -f ${marker} || { touch ${marker}; exit 3; }`;
  [etl, web, flaky] = await Promise.all([
    submitted('etl.yaml', pipeline('etl', 'true'), ['app=etl', 'tier=prod']),
    submitted('web.yaml', pipeline('web', 'true'), ['app=web', 'tier=dev']),
    submitted('flaky.yaml', pipeline('flaky', flakyRun), ['app=etl', 'tier=dev']),
  ]);
});

describe('runs list', () => {
  it('is a table of runs, newest first, with names and labels', async () => {
    const { code, stdout } = await chainr(['runs', 'list']);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toMatch(/^UID +NAME +STATUS +JOBS +AGE +DURATION +LABELS$/);
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.startsWith(flaky.metadata.uid))).toMatch(
      /^\S+ +flaky +FAILED +2\/2 \(1 failed\) +\d+s +\S+ +app=etl,tier=dev$/,
    );
  });

  it('filters by label selector, status and name', async () => {
    const uids = async (...args: string[]) => {
      const { stdout } = await chainr(['runs', 'list', '-o', 'json', ...args]);
      return (JSON.parse(stdout) as { items: RunJson[] }).items.map((r) => r.metadata.uid).sort();
    };
    const [byLabel, bySelector, byStatus, byName] = await Promise.all([
      uids('-l', 'app=etl'),
      uids('--selector', 'app=etl,tier!=dev'),
      uids('--status', 'failed'),
      uids('--name', 'web'),
    ]);
    expect(byLabel).toEqual([etl.metadata.uid, flaky.metadata.uid].sort());
    expect(bySelector).toEqual([etl.metadata.uid]);
    expect(byStatus).toEqual([flaky.metadata.uid]);
    expect(byName).toEqual([web.metadata.uid]);
  });

  it('pages with --limit, and says how to get the next page', async () => {
    const { stdout, stderr } = await chainr(['runs', 'list', '--limit', '2']);
    expect(stdout.trim().split('\n')).toHaveLength(3);
    const next = /--continue (\S+)/.exec(stderr)?.[1];
    expect(next).toBeDefined();
    const rest = await chainr(['runs', 'list', '--limit', '2', '--continue', next ?? '']);
    expect(rest.stdout.trim().split('\n')).toHaveLength(2);
  });

  it("keeps the filters it was given in the next page's command", async () => {
    // etl and web: two runs match, so that a page of one has a next
    const args = ['runs', 'list', '--status', 'successful', '-l', 'tier!=test', '--limit', '1'];
    const { stderr } = await chainr(args);
    expect(stderr).toMatch(
      /^more: chainr runs list --status SUCCESSFUL -l 'tier!=test' --limit 1 --continue \S+$/m,
    );
  });
});

describe('runs get', () => {
  it('shows the run with its labels, and each job with its status, exit code and reason', async () => {
    const { code, stdout } = await chainr(['runs', 'get', flaky.metadata.uid]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Run: +[0-9a-f-]{36}$/m);
    expect(stdout).toMatch(/^Labels: +app=etl,tier=dev$/m);
    expect(stdout).toMatch(/^Status: +FAILED$/m);
    expect(stdout).toMatch(/^✗ +main +FAILED +local +1 +(\d+ms|\d+\.\ds) +3 +exit code 3$/m);
    expect(stdout).toMatch(/^↷ +then +SKIPPED +local +1 +dependency/m);
  });

  it('finds a run by the end of its uid as the UI shows it, or its start', async () => {
    const uid = flaky.metadata.uid;
    const bySuffix = await chainr(['runs', 'get', uid.slice(-8), '-o', 'json']);
    expect((JSON.parse(bySuffix.stdout) as RunJson).metadata.uid).toBe(uid);
    const byPrefix = await chainr(['runs', 'get', uid.slice(0, 23), '-o', 'json']);
    expect((JSON.parse(byPrefix.stdout) as RunJson).metadata.uid).toBe(uid);
    // the three runs of this file were created in the same second: their uids start alike
    const shared = [etl, web, flaky].map((r) => r.metadata.uid.slice(0, 4));
    expect(new Set(shared).size).toBe(1);
    const ambiguous = await chainr(['runs', 'get', shared[0] ?? '']);
    expect(ambiguous.code).toBe(3);
    expect(ambiguous.stderr).toMatch(
      /^chainr: \w{4} names more than one run: give more of its uid$/m,
    );
    expect(ambiguous.stderr).toContain(`  ${uid}  flaky  `);
    const none = await chainr(['runs', 'get', 'ffffffff']);
    expect(none).toMatchObject({
      code: 3,
      stderr: "chainr: no run's uid starts or ends with ffffffff\n",
    });
  });

  it('answers 404 for an unknown run with exit code 3', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000';
    expect(await chainr(['runs', 'get', unknown])).toMatchObject({
      code: 3,
      stderr: `chainr: run ${unknown} not found\n`,
    });
  });
});

describe('logs', () => {
  it('says why a skipped job has no log', async () => {
    const { code, stdout, stderr } = await chainr(['logs', flaky.metadata.uid.slice(-8), 'then']);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'job then has no log: it was SKIPPED without running: dependency "main" ended FAILED; this job runs only when it is SUCCESSFUL\n',
    );
    const unknown = await chainr(['logs', flaky.metadata.uid, 'nope']);
    expect(unknown.stderr).toMatch(/has no job "nope" \(its jobs: main, then\)/);
  });
});

describe('runs retry and resubmit', () => {
  it('retries the failed jobs of a run in place and follows it to success', async () => {
    const { code, stdout } = await chainr(['runs', 'retry', flaky.metadata.uid, '--watch']);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(new RegExp(`^run ${flaky.metadata.uid} retried`));
    expect(stdout).toMatch(/job main SUCCESSFUL/);
    const { stdout: json } = await chainr(['runs', 'get', flaky.metadata.uid, '-o', 'json']);
    const run = JSON.parse(json) as RunJson;
    expect(run.status).toBe('SUCCESSFUL');
    expect(run.jobs.find((j) => j.name === 'main')?.attempt).toBe(2);
    const again = await chainr(['runs', 'retry', flaky.metadata.uid]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/nothing to retry/);
  });

  it('resubmits a run as a new one with the same labels', async () => {
    const { code, stdout } = await chainr([
      'runs',
      'resubmit',
      web.metadata.uid,
      '-w',
      '-o',
      'yaml',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^kind: Run$/m);
    expect(stdout).toMatch(/^ {4}app: web$/m);
    expect(stdout).toMatch(/^status: SUCCESSFUL$/m);
    expect(stdout).not.toContain(web.metadata.uid);
  });
});

describe('schedules', () => {
  it('creates a schedule from a pipeline file, lists it, pauses, resumes and deletes it', async () => {
    const created = await chainr([
      'schedules',
      'create',
      '-f',
      'examples/nightly.yaml',
      '--cron',
      '0 3 * * *',
      '--timezone',
      'Europe/Paris',
      '-p',
      'date=2024-05-01',
      '-o',
      'json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const schedule = JSON.parse(created.stdout) as { metadata: { uid: string }; paused: boolean };
    const id = schedule.metadata.uid;
    const row = async () =>
      (await chainr(['schedules', 'list'])).stdout.split('\n').find((l) => l.startsWith(id));
    expect(await row()).toMatch(/^\S+ +nightly-etl +0 3 \* \* \* +Europe\/Paris +active +\d{4}-/);
    expect(await chainr(['schedules', 'pause', id])).toMatchObject({
      code: 0,
      stdout: `schedule ${id} paused\n`,
    });
    expect(await row()).toMatch(/ paused +-$/);
    expect((await chainr(['schedules', 'resume', id])).code).toBe(0);
    expect(await row()).toMatch(/ active +\d{4}-/);
    expect((await chainr(['schedules', 'delete', id])).code).toBe(0);
    expect(await row()).toBeUndefined();
    const gone = await chainr(['schedules', 'delete', id]);
    expect(gone).toMatchObject({ code: 3, stderr: `chainr: schedule ${id} not found\n` });
  });
});

describe('logs --attempt', () => {
  it("prints one attempt's lines of a retried job, and says what is wrong with a bad attempt", async () => {
    const retried = await submitted(
      'retried.yaml',
      `kind: Pipeline\nmetadata: { name: retried }\njobs:\n  try:\n    image: busybox\n    run: 'echo "try $CHAINR_ATTEMPT"; [ "$CHAINR_ATTEMPT" = 2 ]'\n    retries: { limit: 1, backoff: { type: fixed, delay: 10ms } }\n`,
    );
    const uid = retried.metadata.uid;
    expect(retried.status).toBe('SUCCESSFUL');
    const whole = await chainr(['logs', uid, 'try']);
    expect(whole.stdout).toMatch(/^try 1\n── attempt 2 · started \S+ ──\ntry 2\n$/);
    for (const n of [1, 2]) {
      expect(await chainr(['logs', uid, 'try', '--attempt', String(n)])).toMatchObject({
        code: 0,
        stdout: `try ${n}\n`,
      });
    }
    const beyond = await chainr(['logs', uid, 'try', '--attempt', '3']);
    expect(beyond.code).not.toBe(0);
    expect(beyond.stderr).toContain(`job "try" of run ${uid} is at attempt 2; it has no attempt 3`);
    const zero = await chainr(['logs', uid, 'try', '--attempt', '0']);
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain('expected an attempt number: 1 for the first');
    const noJob = await chainr(['logs', uid, '--attempt', '1']);
    expect(noJob.code).not.toBe(0);
    expect(noJob.stderr).toContain("--attempt reads one job's attempt: name the job");
  });
});
