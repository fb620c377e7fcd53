/**
 * The executor conformance suite: what every executor must do the same way, whatever runs the
 * job. Each executor's test file calls `executorConformance` with a factory; capabilities an
 * executor does not have are declared, and their tests are not registered for it (never weakened).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ExecutionRequest,
  ExecutionResult,
  ExecutionSettings,
  Executor,
} from '../../src/executors/executor.ts';

/** A request whose job is a shell command (`run`), which tests vary with spreads. */
export type ShellRequest = ExecutionSettings & { run: string; argv?: undefined };

export interface Logged {
  line: string;
  stream: 'stdout' | 'stderr';
  /** When the line reached the test (ms since the epoch). */
  at: number;
}

export interface ConformanceTarget {
  name: string;
  /** A ready executor; called once per test (re-attach calls it twice: two workers). */
  create(): Executor | Promise<Executor>;
  /** The image jobs run in (ignored by the local executor). */
  image: string;
  /** Whether the executor keeps stdout and stderr apart (Kubernetes logs merge them). */
  separateStreams: boolean;
  supports: {
    timeout: boolean;
    outputs: boolean;
    /** Jobs given as a program and its arguments (`argv`, no shell). */
    exec: boolean;
    /**
     * Re-attach: a second executor given an attempt whose first executor stopped with
     * `detachReason` follows the same run of the job instead of starting it again.
     * `starts` counts how many times the attempt's job was started.
     */
    reattach?: { detachReason: string; starts(request: ExecutionRequest): Promise<number> };
    /**
     * Variables read from secrets where the job runs (Executor.secretsByReference): `put` stores
     * a secret there as its operator would.
     */
    secrets?: { put(name: string, data: Record<string, string>): Promise<void> };
  };
  /** The longest a job takes to start, so waits can allow for it (ms). */
  startupMs: number;
  /** Run the tests at once (for slow executors; every test has its own attempt). */
  concurrent?: boolean;
}

/**
 * Jobs that must be stopped sleep this long; being stopped means ending in well under half of it
 * once running, a bound that says "stopped, not left to finish" without timing the executor
 * (slow under load: speed is measured by the benchmark).
 */
const SLEEP_S = 60;
const STOPPED_WITHIN_MS = (SLEEP_S * 1000) / 2;
/** Beyond the sleep: a job that is not stopped fails on its result and duration, not on a timeout. */
const OUTLIVED_TEST_TIMEOUT_MS = (SLEEP_S + 30) * 1000;

/** `it` for a capability the executor has; nothing at all for one it declares it lacks. */
const whenSupported = (supported: boolean): typeof it =>
  supported ? it : ((() => undefined) as unknown as typeof it);

/** Lines the executor itself adds to a job's log (`chainr: ...`) are not the job's. */
const jobLines = (logs: Logged[]) => logs.filter((l) => !l.line.startsWith('chainr: '));

export function executorConformance(target: ConformanceTarget): void {
  const attempt = (run: string, extra: Partial<ExecutionSettings> = {}): ShellRequest => ({
    uid: randomUUID(),
    job: 'conformance',
    attempt: 1,
    image: target.image,
    run,
    env: {},
    ...extra,
  });

  const program = (argv: string[], extra: Partial<ExecutionSettings> = {}): ExecutionRequest => ({
    ...attempt('', extra),
    run: undefined,
    argv,
  });

  async function execute(
    request: ExecutionRequest,
    signal: AbortSignal = new AbortController().signal,
    executor?: Executor,
  ): Promise<{ result: ExecutionResult; logs: Logged[]; endedAt: number }> {
    const logs: Logged[] = [];
    const result = await (executor ?? (await target.create())).run(request, {
      onLog: (line, stream) => logs.push({ line, stream, at: Date.now() }),
      signal,
    });
    return { result, logs, endedAt: Date.now() };
  }

  /** Runs a job and aborts it once it has logged `marker`. */
  async function abortAfter(
    request: ExecutionRequest,
    marker: string,
    reason: string,
    executor?: Executor,
  ) {
    const controller = new AbortController();
    const logs: Logged[] = [];
    let abortedAt = Number.NaN;
    const running = (executor ?? (await target.create())).run(request, {
      onLog: (line, stream) => {
        logs.push({ line, stream, at: Date.now() });
        if (line !== marker) return;
        abortedAt = Date.now();
        controller.abort(reason);
      },
      signal: controller.signal,
    });
    const timer = setTimeout(
      () => controller.abort('marker never seen'),
      target.startupMs + 10_000,
    );
    const result = await running;
    clearTimeout(timer);
    return { result, logs, abortedAt, endedAt: Date.now() };
  }

  const suite = target.concurrent ? describe.concurrent : describe;
  suite(`executor conformance: ${target.name}`, () => {
    afterEach(() => {
      delete process.env.CHAINR_CONFORMANCE_SECRET;
    });

    it('reports a job that exits 0 as SUCCESSFUL', async () => {
      const { result } = await execute(attempt('echo hello'));
      expect(result).toEqual({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
    });

    it('reports a non-zero exit as FAILED with its exit code', async () => {
      const { result, logs } = await execute(attempt('echo about to fail; exit 3'));
      expect(result).toEqual({ status: 'FAILED', exitCode: 3, reason: 'exit code 3' });
      expect(jobLines(logs).map((l) => l.line)).toEqual(['about to fail']);
    });

    it('delivers every log line once, in order, with its stream', async () => {
      const { logs } = await execute(
        attempt(
          "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo; printf 'a\\nb\\n'; sleep 0.2; printf 'tail'",
        ),
      );
      const lines = jobLines(logs);
      expect(lines.map((l) => l.line)).toEqual(['one', 'two', '', 'a', 'b', 'tail']);
      if (target.separateStreams) expect(lines[1]?.stream).toBe('stderr');
      for (const l of lines) expect(['stdout', 'stderr']).toContain(l.stream);
    });

    it("gives the job its identity and its own variables, and not the worker's environment", async () => {
      process.env.CHAINR_CONFORMANCE_SECRET = 'hunter2';
      const request = attempt(
        'echo "$CHAINR_RUN_UID/$CHAINR_JOB_NAME/$CHAINR_ATTEMPT"; echo "extra=$EXTRA"; echo "secret=${CHAINR_CONFORMANCE_SECRET:-unset}"',
        { attempt: 2, env: { EXTRA: 'from the pipeline' } },
      );
      const { result, logs } = await execute(request);
      expect(result.status).toBe('SUCCESSFUL');
      expect(jobLines(logs).map((l) => l.line)).toEqual([
        `${request.uid}/conformance/2`,
        'extra=from the pipeline',
        'secret=unset',
      ]);
    });

    it('runs two attempts of one job independently', async () => {
      const first = attempt('echo first; exit 1');
      const second = { ...first, attempt: 2, run: 'echo second' };
      const [a, b] = await Promise.all([execute(first), execute(second)]);
      expect(a.result).toMatchObject({ status: 'FAILED', exitCode: 1 });
      expect(b.result).toMatchObject({ status: 'SUCCESSFUL', exitCode: 0 });
      expect(jobLines(a.logs).map((l) => l.line)).toEqual(['first']);
      expect(jobLines(b.logs).map((l) => l.line)).toEqual(['second']);
    });

    it('does not start a job whose signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort('too late');
      const { result, logs } = await execute(attempt('echo started'), controller.signal);
      expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: 'canceled before start' });
      expect(logs).toEqual([]);
    });

    it('stops a running job when canceled, and reports the cancel reason', async () => {
      const { result, logs, abortedAt, endedAt } = await abortAfter(
        attempt(`echo started; sleep ${SLEEP_S}; echo finished`),
        'started',
        'canceled',
      );
      expect(endedAt - abortedAt).toBeLessThan(STOPPED_WITHIN_MS);
      expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: 'canceled' });
      expect(jobLines(logs).map((l) => l.line)).not.toContain('finished');
    });

    whenSupported(target.supports.timeout)(
      'fails a job that outlives its timeout',
      async () => {
        const { result, logs, endedAt } = await execute(
          attempt(`echo started; sleep ${SLEEP_S}; echo finished`, { timeoutMs: 1000 }),
        );
        expect(result, JSON.stringify(logs)).toMatchObject({ status: 'FAILED', exitCode: null });
        expect(result.reason).toMatch(/^timed out after 1s/);
        const startedAt = logs.find((l) => l.line === 'started')?.at ?? Number.NaN;
        expect(endedAt - startedAt).toBeLessThan(STOPPED_WITHIN_MS);
        expect(jobLines(logs).map((l) => l.line)).toEqual(['started']);
      },
      OUTLIVED_TEST_TIMEOUT_MS,
    );

    const secrets = target.supports.secrets;
    whenSupported(secrets !== undefined)(
      'reads a variable from a secret where the job runs, its value untouched',
      async () => {
        const name = `conformance-${randomUUID().slice(0, 8)}`;
        await secrets?.put(name, { token: 's3 cr$(HOME)t' });
        const { result, logs } = await execute(
          attempt('echo "token=$TOKEN"', { secrets: { TOKEN: { name, key: 'token' } } }),
        );
        expect(result, JSON.stringify(logs)).toMatchObject({ status: 'SUCCESSFUL' });
        expect(jobLines(logs).map((l) => l.line)).toEqual(['token=s3 cr$(HOME)t']);
      },
    );

    whenSupported(secrets !== undefined)(
      'fails a job whose secret does not exist, naming it',
      async () => {
        const name = `missing-${randomUUID().slice(0, 8)}`;
        const { result, logs } = await execute(
          attempt('echo ran', { secrets: { TOKEN: { name, key: 'token' } } }),
        );
        expect(result).toMatchObject({ status: 'FAILED', exitCode: null });
        expect(result.reason).toContain(`secret "${name}" not found`);
        expect(jobLines(logs)).toEqual([]);
      },
      OUTLIVED_TEST_TIMEOUT_MS,
    );

    whenSupported(target.supports.outputs)(
      'returns the key=value lines the job wrote to $CHAINR_OUTPUTS',
      async () => {
        const { result } = await execute(
          attempt(
            'echo "image_tag=v1.2.3" >> "$CHAINR_OUTPUTS"; echo "url=http://x/?a=b" >> "$CHAINR_OUTPUTS"; echo done',
          ),
        );
        expect(result).toEqual({
          status: 'SUCCESSFUL',
          exitCode: 0,
          reason: '',
          outputs: { image_tag: 'v1.2.3', url: 'http://x/?a=b' },
        });
      },
    );

    whenSupported(target.supports.outputs)('fails a job whose outputs exceed 4 KiB', async () => {
      const { result } = await execute(
        attempt(
          'i=0; while [ $i -lt 300 ]; do echo "key_$i=0123456789" >> "$CHAINR_OUTPUTS"; i=$((i+1)); done',
        ),
      );
      expect(result.status).toBe('FAILED');
      expect(result.reason).toMatch(/outputs are \d+ bytes, more than the limit of 4096/);
    });

    const exec = target.supports.exec;
    whenSupported(exec)(
      'runs a program with its arguments as written: no shell, no variable expansion',
      async () => {
        const { result, logs } = await execute(
          program(['echo', 'a  $HOME', '$(CHAINR_JOB_NAME)', '$$', '*', '"quoted"']),
        );
        expect(result).toEqual({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
        expect(jobLines(logs).map((l) => l.line)).toEqual([
          'a  $HOME $(CHAINR_JOB_NAME) $$ * "quoted"',
        ]);
      },
    );

    whenSupported(exec)("reports a program's non-zero exit as FAILED", async () => {
      const { result } = await execute(program(['false']));
      expect(result).toEqual({ status: 'FAILED', exitCode: 1, reason: 'exit code 1' });
    });

    whenSupported(exec)('fails a program that does not exist, naming it', async () => {
      const { result, logs } = await execute(program(['/no/such/program', 'x']));
      expect(result.status).toBe('FAILED');
      expect([result.reason, ...logs.map((l) => l.line)].join('\n')).toContain('/no/such/program');
    });

    whenSupported(exec && target.supports.outputs)(
      'returns the outputs a program wrote to the file named by $CHAINR_OUTPUTS',
      async () => {
        const { result } = await execute(
          program([
            'awk',
            'BEGIN { print "image_tag=v1.2.3" > ENVIRON["CHAINR_OUTPUTS"]; print "done" }',
          ]),
        );
        expect(result).toEqual({
          status: 'SUCCESSFUL',
          exitCode: 0,
          reason: '',
          outputs: { image_tag: 'v1.2.3' },
        });
      },
    );

    whenSupported(exec && target.supports.timeout)(
      'stops a program that outlives its timeout',
      async () => {
        const startedAt = Date.now();
        const { result, logs, endedAt } = await execute(
          program(['sleep', String(SLEEP_S)], { timeoutMs: 1000 }),
        );
        expect(result, JSON.stringify(logs)).toMatchObject({ status: 'FAILED', exitCode: null });
        expect(result.reason).toMatch(/^timed out after 1s/);
        expect(endedAt - startedAt).toBeLessThan(STOPPED_WITHIN_MS);
      },
      OUTLIVED_TEST_TIMEOUT_MS,
    );

    const reattach = target.supports.reattach;
    whenSupported(reattach !== undefined)(
      're-attaches to the running job of an attempt instead of starting it again',
      async () => {
        if (!reattach) return;
        const request = attempt('echo started; sleep 1.5; echo finished; exit 4');
        const first = await abortAfter(request, 'started', reattach.detachReason);
        expect(first.result.status).toBe('FAILED');
        const second = await execute(request, undefined, await target.create());
        expect(second.result).toEqual({ status: 'FAILED', exitCode: 4, reason: 'exit code 4' });
        expect(jobLines(second.logs).map((l) => l.line)).toEqual(['started', 'finished']);
        expect(await reattach.starts(request)).toBe(1);
      },
    );
  });
}
