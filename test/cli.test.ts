/**
 * The chainr command line as users run it: `node bin/chainr.js ...` as a real process, against a
 * real sched and worker (in this process) on a real redis-server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/process/private-redis.ts';
import { spawnChainr } from './fixtures/processes.ts';
import { cliTestbed, runChainr, type CliResult } from './fixtures/cli.ts';

const testbed = cliTestbed('cli-test');

/** Runs `chainr args...` to its end, with CHAINR_SERVER pointing at the test server. */
function chainr(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runChainr(args, { CHAINR_SERVER: testbed.url(), ...env });
}

function file(name: string, text: string): string {
  const path = testbed.path(name);
  writeFileSync(path, text);
  return path;
}

const STAMP = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
/** `42ms`, `1.3s`: short jobs on a busy machine take either. */
const DURATION = '(\\d+ms|\\d+\\.\\ds)';
const UID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

function uidOf(text: string): string {
  const match = UID.exec(text);
  if (!match) throw new Error(`no run uid in: ${text}`);
  return match[0];
}

const FAILING = `kind: Pipeline
jobs:
  extract: { image: busybox, run: echo extracting }
  load: { image: busybox, run: 'echo loading; exit 1', dependsOn: [{ job: extract }] }
  report: { image: busybox, run: echo report, dependsOn: [{ job: load }] }
  restore:
    image: busybox
    run: echo restoring
    dependsOn: [{ job: load, conditions: { failure: true } }]
`;

describe('submit --watch', () => {
  it('runs the seed pipeline and exits 0, with a timestamped line per transition', async () => {
    const { code, stdout } = await chainr(['submit', '-f', 'examples/seed.json', '--watch']);
    expect(code, stdout).toBe(0);
    const uid = uidOf(stdout);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${STAMP} watching run ${uid} \\(seed\\): 4 jobs, \\w+$`));
    // Each job's end (its start may come before the watch connects: the snapshot then shows it).
    for (const line of [
      `job first SUCCESSFUL after ${DURATION}`,
      `job second SUCCESSFUL after ${DURATION}`,
      'job error SKIPPED: .+',
      `job success SUCCESSFUL after ${DURATION}`,
      `run SUCCESSFUL after ${DURATION}`,
    ]) {
      expect(stdout).toMatch(new RegExp(`^${STAMP} ${line}$`, 'm'));
    }
    expect(lines.at(-1)).toMatch(
      new RegExp(`^✓ run ${uid} SUCCESSFUL in .+: 3 successful, 1 skipped$`),
    );
    expect(stdout).not.toContain('\x1b['); // not a terminal: no redrawing, no colours
  });

  it('exits 1 when the run fails, naming the failed job and its log', async () => {
    const { code, stdout } = await chainr(['submit', '-f', file('failing.yaml', FAILING), '-w']);
    expect(code, stdout).toBe(1);
    const uid = uidOf(stdout);
    expect(stdout).toMatch(
      new RegExp(`^${STAMP} job load FAILED after ${DURATION}: exit code 1$`, 'm'),
    );
    expect(stdout).toMatch(new RegExp(`^${STAMP} job restore SUCCESSFUL`, 'm'));
    expect(stdout).toContain(`✗ run ${uid} FAILED in`);
    expect(stdout).toContain('  ✗ load: exit code 1');
    expect(stdout).toContain(`  logs: chainr logs ${uid} load`);
  });

  it('with --output json, prints the final run on stdout and the progress on stderr', async () => {
    const { code, stdout, stderr } = await chainr([
      'submit',
      '-f',
      'examples/seed.json',
      '-w',
      '-o',
      'json',
    ]);
    expect(code).toBe(0);
    const run = JSON.parse(stdout) as { kind: string; status: string; jobs: unknown[] };
    expect(run).toMatchObject({ kind: 'Run', status: 'SUCCESSFUL' });
    expect(stderr).toContain('run SUCCESSFUL');
  });

  it('exits 2 when the run is canceled, and 130 (the run going on) when interrupted', async () => {
    const slow = file(
      'slow.yaml',
      'kind: Pipeline\njobs:\n  nap: { image: busybox, run: sleep 30 }\n',
    );
    const watch = spawnChainr(['submit', '-f', slow, '--watch'], { CHAINR_SERVER: testbed.url() });
    const deadline = Date.now() + 20_000;
    while (!/job nap RUNNING/.test(watch.output()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const uid = uidOf(watch.output());
    const cancel = await chainr(['runs', 'cancel', uid]);
    expect(cancel).toMatchObject({ code: 0, stdout: `run ${uid} canceled\n` });
    expect(await watch.exited).toBe(2);
    expect(watch.output()).toMatch(
      new RegExp(`^${STAMP} job nap CANCELED after .+: canceled by request$`, 'm'),
    );

    const again = await chainr(['runs', 'cancel', uid]);
    expect(again.code).toBe(3);
    expect(again.stderr).toBe(`chainr: run ${uid} already ended (CANCELED)\n`);

    const second = spawnChainr(['submit', '-f', slow, '--watch'], { CHAINR_SERVER: testbed.url() });
    while (!/job nap RUNNING/.test(second.output()) && Date.now() < deadline + 20_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await second.kill('SIGINT')).toBe(130);
    const running = uidOf(second.output());
    expect(second.output()).toContain(`Follow it again: chainr watch ${running}`);
    expect((await chainr(['runs', 'cancel', running])).code).toBe(0);
  });
});

describe('watch', () => {
  it('attaching late without a terminal, prints what happened before and why jobs wait', async () => {
    const marker = testbed.path('retried');
    const pipeline = file(
      'late.yaml',
      `kind: Pipeline
jobs:
  early: { image: busybox, run: 'true' }
  flaky:
    image: busybox
    run: 'test -f ${marker} && exit 0; touch ${marker}; exit 3'
    retries: { limit: 2, backoff: { delay: 5m } }
    dependsOn: [{ job: early }]
  after: { image: busybox, run: 'true', dependsOn: [{ job: flaky }] }
`,
    );
    const submitted = await chainr(['submit', '-f', pipeline, '-o', 'json']);
    const uid = (JSON.parse(submitted.stdout) as { metadata: { uid: string } }).metadata.uid;
    // until flaky's first attempt failed: it waits five minutes for its retry
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { stdout } = await chainr(['runs', 'get', uid, '-o', 'json']);
      const run = JSON.parse(stdout) as { jobs: { name: string; attempt: number }[] };
      if (run.jobs.find((j) => j.name === 'flaky')?.attempt === 2) break;
      if (Date.now() > deadline) throw new Error(stdout);
      await new Promise((r) => setTimeout(r, 100));
    }
    const watch = spawnChainr(['watch', uid], { CHAINR_SERVER: testbed.url() });
    while (!/job after PENDING/.test(watch.output()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await watch.kill('SIGINT');
    const lines = watch
      .output()
      .split('\n')
      .filter((l) => new RegExp(`^${STAMP} (job|run) `).test(l))
      .map((l) => l.slice(25));
    expect(lines).toEqual([
      'run RUNNING',
      'job early RUNNING',
      expect.stringMatching(new RegExp(`^job early SUCCESSFUL after ${DURATION}$`)),
      'job flaky RUNNING',
      expect.stringMatching(new RegExp(`^job flaky FAILED after ${DURATION}: exit code 3$`)),
      'job flaky PENDING: attempt 1 failed (exit code 3); retry 1 of 2 in 5m',
      'job after PENDING',
    ]);
    expect((await chainr(['runs', 'cancel', uid])).code).toBe(0);
  });
});

describe('submit', () => {
  it('prints the errors the server finds, one per line (unknown parameters here)', async () => {
    const { code, stderr } = await chainr(['submit', '-f', 'examples/seed.json', '-p', 'nope=1']);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^chainr: invalid parameters\n {2}params\.nope: unknown parameter/);
  });

  it('says clearly when no server answers, and exits 3', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const { code, stderr } = await chainr(['submit', '-f', 'examples/seed.json'], {
      CHAINR_SERVER: nobody,
    });
    expect(code).toBe(3);
    expect(stderr).toBe(
      `chainr: cannot reach the chainr server at ${nobody} (connection refused). ` +
        'Start one with `chainr up`, or point --server or CHAINR_SERVER at yours.\n',
    );
  });
});

describe('logs', () => {
  it('follows every job of a run, each line prefixed with its job, until the run ends', async () => {
    const chatty = file(
      'chatty.yaml',
      `kind: Pipeline
jobs:
  ping: { image: busybox, run: 'for i in 1 2 3; do echo ping $i; sleep 0.2; done' }
  pong-long: { image: busybox, run: 'for i in 1 2 3; do echo pong $i >&2; sleep 0.2; done' }
  last: { image: busybox, run: echo done, dependsOn: [{ job: ping }, { job: pong-long }] }
`,
    );
    const submitted = await chainr(['submit', '-f', chatty]);
    const uid = uidOf(submitted.stdout);
    const { code, stdout } = await chainr(['logs', uid, '-f']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ping      | '))).toEqual([
      'ping      | ping 1',
      'ping      | ping 2',
      'ping      | ping 3',
    ]);
    expect(lines.filter((l) => l.startsWith('pong-long | '))).toHaveLength(3);
    expect(lines.at(-1)).toBe('last      | done');

    const one = await chainr(['logs', uid, 'pong-long']);
    expect(one).toMatchObject({ code: 0, stdout: 'pong 1\npong 2\npong 3\n' });
    const missing = await chainr(['logs', uid, 'nope']);
    expect(missing).toMatchObject({
      code: 3,
      stderr: `chainr: run ${uid} has no job "nope" (its jobs: ping, pong-long, last)\n`,
    });
  });
});

describe.skipIf(spawnSync('script', ['--version']).status !== 0)('on a terminal', () => {
  it('draws the jobs live, redrawing in place, then the summary', async () => {
    // Asynchronously: the server answering it runs in this very process.
    const child = spawn(
      'script',
      ['-qec', 'node bin/chainr.js submit -f examples/seed.json -w', '/dev/null'],
      {
        // script relays its stdin to the terminal: an open one would keep it waiting
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CHAINR_SERVER: testbed.url(), LOG_LEVEL: 'warn' },
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const status = await new Promise<number | null>((done) => child.once('exit', done));
    expect(status, stdout).toBe(0);
    expect(stdout).toContain('\x1b[?25l'); // the cursor hidden while drawing...
    // eslint-disable-next-line no-control-regex
    expect(stdout).toMatch(/\x1b\[\d+A\x1b\[0J/); // ...frames redrawn in place...
    expect(stdout).toContain('\x1b[?25h'); // ...and shown again
    expect(stdout).toMatch(/✓.*success.*SUCCESSFUL/);
    expect(stdout).toMatch(/run [0-9a-f-]{36} .*SUCCESSFUL.* in .+: 3 successful, 1 skipped/);
  });
});
