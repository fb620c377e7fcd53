/** The local executor on its own: exit codes, logs, environment, working directory, stopping. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExecutionRequest, ExecutionResult } from '../src/executors/executor.ts';
import { LocalExecutor } from '../src/executors/local.ts';
import { LocalRecords } from '../src/executors/local-records.ts';
import { until, isRunning } from './fixtures/wait.ts';

interface Logged {
  line: string;
  stream: 'stdout' | 'stderr';
}

let scratch: string;
let workRoot: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'chainr-local-test-'));
  workRoot = mkdtempSync(join(tmpdir(), 'chainr-local-root-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(workRoot, { recursive: true, force: true });
});

function request(run: string, env: Record<string, string> = {}): ExecutionRequest {
  return {
    uid: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    job: 'build',
    attempt: 2,
    image: 'busybox',
    run,
    env,
  };
}

async function execute(
  executor: LocalExecutor,
  run: string,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ result: ExecutionResult; logs: Logged[] }> {
  const logs: Logged[] = [];
  const result = await executor.run(request(run, options.env), {
    onLog: (line, stream) => logs.push({ line, stream }),
    signal: options.signal ?? new AbortController().signal,
  });
  return { result, logs };
}

async function readPid(file: string): Promise<number> {
  await until(
    () => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'),
    `pid in ${file}`,
  );
  return Number(readFileSync(file, 'utf8').trim());
}

/** A fresh directory for one test's pid files, passed to the job as $PIDS. */
function pidDir(): string {
  return mkdtempSync(join(scratch, 'pids-'));
}

describe('LocalExecutor', () => {
  const local = () => new LocalExecutor({ killGraceMs: 5000, workRoot });

  afterEach(() => {
    delete process.env.SECRET_FOR_TEST;
  });

  it('is named local', () => {
    expect(local().name).toBe('local');
  });

  it('reports a job that exits 0 as SUCCESSFUL', async () => {
    const { result } = await execute(local(), 'exit 0');
    expect(result).toEqual({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
  });

  it('reports a non-zero exit as FAILED with its code', async () => {
    const { result } = await execute(local(), 'echo about to fail; exit 3');
    expect(result).toEqual({ status: 'FAILED', exitCode: 3, reason: 'exit code 3' });
  });

  it('reports a job killed by a signal', async () => {
    const { result } = await execute(local(), 'kill -KILL $$');
    expect(result).toEqual({
      status: 'FAILED',
      exitCode: null,
      reason: 'killed by signal SIGKILL',
    });
  });

  it('delivers stdout and stderr lines with their stream, each stream in order', async () => {
    const { result, logs } = await execute(local(), "echo hello; echo oops >&2; printf 'a\\nb\\n'");
    expect(result.status).toBe('SUCCESSFUL');
    // Two pipes carry no order between them: lines written in one burst may arrive stream by
    // stream. Each stream's own order is kept, and every line is labeled with its stream.
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual([
      'hello',
      'a',
      'b',
    ]);
    expect(logs.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['oops']);
    expect(logs).toHaveLength(4);
  });

  it('keeps the order across stdout and stderr of lines written at different times', async () => {
    const { logs } = await execute(
      local(),
      "echo hello; sleep 0.2; echo oops >&2; sleep 0.2; printf 'a\\nb\\n'; sleep 0.2; echo last >&2",
    );
    expect(logs).toEqual([
      { line: 'hello', stream: 'stdout' },
      { line: 'oops', stream: 'stderr' },
      { line: 'a', stream: 'stdout' },
      { line: 'b', stream: 'stdout' },
      { line: 'last', stream: 'stderr' },
    ]);
  });

  it('delivers a last line without a newline, empty lines and long lines', async () => {
    const long = 'x'.repeat(60_000);
    const { logs } = await execute(
      local(),
      `echo one; echo; printf '%s\\n' ${long}; printf 'tail'`,
    );
    expect(logs.map((l) => l.line)).toEqual(['one', '', long, 'tail']);
  });

  it('cuts a line longer than the limit, saying how many bytes it dropped, and goes on', async () => {
    const logs: Logged[] = [];
    // 3 MB in one line, a multi-byte character across the cut, then more lines.
    const result = await local().run(
      request(`printf 'ab\\303\\251'; head -c 3000000 /dev/zero | tr '\\0' y; echo; echo ok`),
      {
        onLog: (line, stream) => logs.push({ line, stream }),
        signal: new AbortController().signal,
        maxLineBytes: 3,
      },
    );
    expect(result.status).toBe('SUCCESSFUL');
    expect(logs.map((l) => l.line)).toEqual([
      `ab [chainr: line cut, ${3_000_000 + 1} more bytes]`,
      'ok',
    ]);
  });

  it("gives the job the CHAINR_ variables and its own env, and not the worker's environment", async () => {
    process.env.SECRET_FOR_TEST = 'hunter2';
    const { result, logs } = await execute(
      local(),
      'echo "uid=$CHAINR_RUN_UID job=$CHAINR_JOB_NAME attempt=$CHAINR_ATTEMPT"; ' +
        'echo "secret=${SECRET_FOR_TEST:-unset} extra=$EXTRA"; echo "home=$HOME pwd=$(pwd)"; env',
      { env: { EXTRA: 'from-request' } },
    );
    expect(result.status).toBe('SUCCESSFUL');
    const lines = logs.map((l) => l.line);
    expect(lines[0]).toBe('uid=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b job=build attempt=2');
    expect(lines[1]).toBe('secret=unset extra=from-request');
    const [, home, pwd] = /^home=(\S+) pwd=(\S+)$/.exec(lines[2] ?? '') ?? [];
    expect(home).toBe(pwd);
    const names = lines.slice(3).map((l) => l.split('=')[0]);
    expect(names).not.toContain('SECRET_FOR_TEST');
    expect(names).toContain('PATH');
  });

  it('runs every job in a fresh, empty working directory that is removed afterwards', async () => {
    const executor = local();
    const script = 'pwd; ls -A | wc -l; touch left-behind';
    const first = await execute(executor, script);
    const second = await execute(executor, script);
    const [dir1, count1] = first.logs.map((l) => l.line.trim());
    const [dir2, count2] = second.logs.map((l) => l.line.trim());
    expect(dir1).toMatch(new RegExp(`^${workRoot}/chainr-job-`));
    expect(dir2).toMatch(new RegExp(`^${workRoot}/chainr-job-`));
    expect(dir1).not.toBe(dir2);
    expect([count1, count2]).toEqual(['0', '0']);
    expect(existsSync(dir1 ?? '')).toBe(false);
    expect(existsSync(dir2 ?? '')).toBe(false);
    // Nothing: the workers' records directory goes with its last record.
    expect(readdirSync(workRoot)).toEqual([]);
  });

  it('removes the working directory of a failed job too', async () => {
    const { result, logs } = await execute(local(), 'pwd; exit 1');
    expect(result.status).toBe('FAILED');
    expect(existsSync(logs[0]?.line ?? '')).toBe(false);
  });

  it('on abort, kills the whole process group and resolves FAILED with the abort reason', async () => {
    const pids = pidDir();
    const controller = new AbortController();
    const running = execute(
      local(),
      'sleep 30 & echo $! > "$PIDS/child"; echo $$ > "$PIDS/shell"; wait',
      {
        env: { PIDS: pids },
        signal: controller.signal,
      },
    );
    const child = await readPid(join(pids, 'child'));
    const shell = await readPid(join(pids, 'shell'));
    expect(isRunning(child)).toBe(true);
    expect(isRunning(shell)).toBe(true);
    const abortedAt = Date.now();
    controller.abort('canceled by test');
    const { result } = await running;
    expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: 'canceled by test' });
    // SIGTERM suffices here: no need to wait for the 5 s grace before SIGKILL.
    expect(Date.now() - abortedAt).toBeLessThan(3000);
    await until(() => !isRunning(child) && !isRunning(shell), 'the job and its child to be gone');
  });

  it('escalates to SIGKILL after the grace period when the job ignores SIGTERM', async () => {
    const pids = pidDir();
    const controller = new AbortController();
    const executor = new LocalExecutor({ killGraceMs: 300, workRoot });
    const running = execute(executor, 'trap \'\' TERM; sleep 30 & echo $! > "$PIDS/child"; wait', {
      env: { PIDS: pids },
      signal: controller.signal,
    });
    const child = await readPid(join(pids, 'child'));
    const abortedAt = Date.now();
    controller.abort('stop');
    const { result } = await running;
    const took = Date.now() - abortedAt;
    expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: 'stop' });
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
    await until(() => !isRunning(child), 'the child to be gone');
  });

  it('starts no job before its process group is recorded', async () => {
    // A worker killed between the spawn and the record would leave a job nobody could end: the
    // record is slowed down here (as a loaded machine may), and the job must wait behind it.
    const dir = pidDir();
    const startedBeforeRecord: boolean[] = [];
    const { addGroup } = Object.getOwnPropertyDescriptors(LocalRecords.prototype);
    const spy = vi.spyOn(LocalRecords.prototype, 'addGroup').mockImplementation(function (
      this: LocalRecords,
      pgid: number,
    ) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      startedBeforeRecord.push(existsSync(join(dir, 'started')));
      (addGroup?.value as LocalRecords['addGroup']).call(this, pgid);
    });
    try {
      const { result } = await execute(local(), `touch ${dir}/started`);
      expect(result.status).toBe('SUCCESSFUL');
    } finally {
      spy.mockRestore();
    }
    expect(startedBeforeRecord).toEqual([false]);
    expect(existsSync(join(dir, 'started'))).toBe(true);
  });

  it('does not start a job whose signal is already aborted', async () => {
    const pids = pidDir();
    const controller = new AbortController();
    controller.abort('too late');
    const { result, logs } = await execute(local(), 'echo started > "$PIDS/started"', {
      env: { PIDS: pids },
      signal: controller.signal,
    });
    expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: 'canceled before start' });
    expect(logs).toEqual([]);
    expect(existsSync(join(pids, 'started'))).toBe(false);
  });

  it('finishes promptly when the shell exits while a background process holds stdout open', async () => {
    const pids = pidDir();
    const startedAt = Date.now();
    const { result, logs } = await execute(local(), 'sleep 30 & echo $! > "$PIDS/bg"; echo done', {
      env: { PIDS: pids },
    });
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(result).toEqual({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
    expect(logs).toEqual([{ line: 'done', stream: 'stdout' }]);
    const bg = Number(readFileSync(join(pids, 'bg'), 'utf8').trim());
    await until(() => !isRunning(bg), 'the background process to be gone');
  });
});
