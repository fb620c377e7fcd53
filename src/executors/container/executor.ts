/**
 * The container executor: each attempt runs in a docker or podman container named from its
 * identity. A worker that takes over an attempt finds the container (running or exited) and
 * follows it instead of starting another. The container is not run with `--rm`: an exited
 * container keeps its exit code until its worker (or the next one) has read it, then it is
 * removed.
 * Cancel and timeout stop it (SIGTERM, SIGKILL after the grace period); a worker shutting down
 * leaves it running for the next worker.
 * Artifacts: the inputs are placed in the attempt's directory that the container mounts (at
 * $CHAINR_ARTIFACTS); after a successful end, the declared paths are copied out of the
 * container by the engine (`cp`) and stored from there.
 */
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { parseOutputs } from '../../core/outputs.ts';
import { DEFAULT_MAX_LINE_BYTES, readLines } from '../lines.ts';
import type { ExecutionIO, ExecutionRequest, ExecutionResult, Executor } from '../executor.ts';
import { formatDuration } from '../kubernetes/assess.ts';
import { RunDirectories } from '../workspaces.ts';
import { placeInputs, withArtifacts } from '../artifact-steps.ts';
import { containerName, createArgs, INPUTS_DIR } from './args.ts';
import { capture, engineSpawner, type SpawnEngine } from './engine.ts';

import { WORKER_SHUTDOWN_REASON } from '../executor.ts';

export { WORKER_SHUTDOWN_REASON };

export interface ContainerExecutorOptions {
  /** `podman`, `docker` or a path to one of them. */
  engine: string;
  /** Parent of the per-attempt directories mounted at /chainr (outputs). */
  workRoot?: string;
  /** Seconds between SIGTERM and SIGKILL when a job is stopped. */
  stopGraceSeconds?: number;
  /** Give containers the engine's default network instead of none. */
  network?: boolean;
  /** How the engine's CLI is started (tests wrap it). */
  spawn?: SpawnEngine;
  /** Where the runs' workspaces are made (default: `chainr-workspaces` in the temporary directory). */
  workspaces?: RunDirectories;
}

const failed = (reason: string, exitCode: number | null = null): ExecutionResult => ({
  status: 'FAILED',
  exitCode,
  reason,
});

const reasonText = (reason: unknown): string =>
  typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : 'canceled';

export class ContainerExecutor implements Executor {
  readonly name = 'container';
  readonly providesWorkspace = true;
  readonly providesArtifacts = true;
  private readonly spawn: SpawnEngine;
  private readonly workRoot: string;
  private readonly workspaces: RunDirectories;

  constructor(private readonly options: ContainerExecutorOptions) {
    this.spawn = options.spawn ?? engineSpawner(options.engine);
    this.workRoot = options.workRoot ?? join(tmpdir(), 'chainr-containers');
    this.workspaces = options.workspaces ?? new RunDirectories(join(tmpdir(), 'chainr-workspaces'));
  }

  async run(request: ExecutionRequest, io: ExecutionIO): Promise<ExecutionResult> {
    if (io.signal.aborted) return failed('canceled before start');
    const name = containerName(request);
    const dir = join(this.workRoot, name);
    let attached = (await this.status(name)) !== undefined;
    const inputs = io.artifacts?.hasInputs === true;
    if (!attached) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'outputs'), '');
      await chmod(join(dir, 'outputs'), 0o666); // the image's user may not be root
      if (io.artifacts && inputs) {
        // Beside the outputs file, in the directory the container mounts: no copy into it.
        const placed = await placeInputs(io.artifacts, join(dir, INPUTS_DIR));
        if (placed) {
          await rm(dir, { recursive: true, force: true });
          return placed;
        }
      }
      const network = this.options.network ?? false;
      const workspace = request.workspace && {
        path: await this.workspaces.prepare(request.uid),
        readOnly: request.workspace.readOnly,
      };
      const { args, env } = createArgs(request, {
        outputsDir: dir,
        network,
        inputs,
        ...(workspace && { workspace }),
      });
      const created = await capture(this.spawn(args, env));
      if (created.code !== 0) {
        // Another worker created it between our look and our create: follow that one.
        if (!/already in use|Conflict/i.test(created.stderr)) {
          await rm(dir, { recursive: true, force: true });
          return failed(`could not start the container: ${lastLine(created.stderr)}`);
        }
        attached = true;
      }
    }
    if (attached) io.onLog(`chainr: re-attached to the running container ${name}`, 'stderr');
    // Started attached, its output streams as it comes (stdout and stderr apart, in order);
    // re-attached, its log is read from the start.
    const output = this.spawn(attached ? ['logs', '--follow', name] : ['start', '--attach', name]);
    return this.follow(name, dir, request, io, output, attached);
  }

  /** The container's status (`running`, `exited`...), undefined when it does not exist. */
  private async status(name: string): Promise<string | undefined> {
    const r = await capture(
      this.spawn(['container', 'inspect', '--format', '{{.State.Status}}', name]),
    );
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  private async follow(
    name: string,
    dir: string,
    request: ExecutionRequest,
    io: ExecutionIO,
    output: ChildProcess,
    attached: boolean,
  ): Promise<ExecutionResult> {
    /** The last line on stderr: the engine's own when it could not start the container. */
    let lastError: string | undefined;
    const streamed = new Promise<void>((done) => {
      let open = 2;
      for (const [stream, source] of [
        ['stdout', output.stdout],
        ['stderr', output.stderr],
      ] as const) {
        if (!source) continue;
        readLines(source, io.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, (l) => {
          if (stream === 'stderr') lastError = lastLine(l);
          io.onLog(l, stream);
        });
        source.on('close', () => (open -= 1) === 0 && done());
      }
    });
    let stopReason: string | undefined;
    let over = false;
    let detach: () => void = () => undefined;
    const detached = new Promise<'detached'>((resolve) => (detach = () => resolve('detached')));
    const stop = (reason: string) => {
      if (stopReason !== undefined) return;
      stopReason = reason;
      void this.stopUntilOver(name, () => over);
    };
    const onAbort = () => {
      const reason = reasonText(io.signal.reason);
      if (reason === WORKER_SHUTDOWN_REASON) detach();
      else stop(reason);
    };
    io.signal.addEventListener('abort', onAbort, { once: true });
    const timeout =
      request.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => stop(`timed out after ${formatDuration(request.timeoutMs ?? 0)}`),
            request.timeoutMs,
          );
    // Attached, the container has ended when its output ends; re-attached, `wait` says when.
    const waiter = attached ? this.spawn(['wait', name]) : undefined;
    const ended = await Promise.race([waiter ? capture(waiter) : streamed, detached]);
    over = true;
    io.signal.removeEventListener('abort', onAbort);
    clearTimeout(timeout);
    if (ended === 'detached') {
      // SIGKILL: a catchable signal would be passed on to the container by the CLI.
      output.kill('SIGKILL');
      waiter?.kill('SIGKILL');
      return failed(WORKER_SHUTDOWN_REASON);
    }
    const drainTimer = setTimeout(() => output.kill('SIGKILL'), 5000);
    await streamed;
    clearTimeout(drainTimer);
    const exit = await capture(this.spawn(['wait', name]));
    const exited = await this.result(name, dir, exit, stopReason, lastError);
    const result =
      exited.status === 'SUCCESSFUL' && io.artifacts
        ? await withArtifacts(exited, io.artifacts, await this.copyOut(name, dir, io))
        : exited;
    await capture(this.spawn(['rm', '--force', name]));
    await rm(dir, { recursive: true, force: true });
    return result;
  }

  /**
   * Copies the paths the job declares out of the ended container (relative to its image's
   * working directory), by the engine: the image needs no tool of chainr's or shell. Answers the
   * directory that holds them at the same relative paths; a path that could not be copied is
   * missing from it, and the engine's reason is in the job's log.
   */
  private async copyOut(name: string, dir: string, io: ExecutionIO): Promise<string> {
    const produced = join(dir, PRODUCED_DIR);
    await mkdir(produced, { recursive: true });
    const inspected = await capture(
      this.spawn(['container', 'inspect', '--format', '{{.Config.WorkingDir}}', name]),
    );
    const workingDir = inspected.stdout.trim() || '/';
    for (const path of io.artifacts?.paths ?? []) {
      const dest = join(produced, path);
      await mkdir(dirname(dest), { recursive: true });
      const copied = await capture(
        this.spawn(['cp', `${name}:${posix.resolve(workingDir, path)}`, dest]),
      );
      if (copied.code !== 0)
        io.onLog(`chainr: ${path} could not be copied out: ${lastLine(copied.stderr)}`, 'stderr');
    }
    return produced;
  }

  /**
   * Stops the container, asking again until it is over: a stop that reaches the engine while the
   * container is still being started finds nothing running, and the container would then run on.
   */
  private async stopUntilOver(name: string, isOver: () => boolean): Promise<void> {
    const grace = String(this.options.stopGraceSeconds ?? 10);
    while (!isOver()) {
      await capture(this.spawn(['stop', '-t', grace, name]));
      if (!isOver()) await new Promise((r) => setTimeout(r, RESTOP_INTERVAL_MS));
    }
  }

  private async result(
    name: string,
    dir: string,
    waited: { code: number | null; stdout: string; stderr: string },
    stopReason: string | undefined,
    startError: string | undefined,
  ): Promise<ExecutionResult> {
    if (stopReason !== undefined) return failed(stopReason);
    const exitCode = Number(waited.stdout.trim().split('\n').pop());
    if (waited.code !== 0 || !Number.isInteger(exitCode))
      return failed(`lost the container ${name}: ${lastLine(waited.stderr)}`);
    const state = await capture(
      this.spawn([
        'container',
        'inspect',
        '--format',
        '{{.State.Status}} {{.State.OOMKilled}}',
        name,
      ]),
    );
    const [status, oomKilled] = state.stdout.trim().split(' ');
    // The program could not be started (it does not exist, or cannot be run): the container
    // stays `created`, with exit code 0, and the engine said why on the start's stderr.
    if (status === 'created')
      return failed(`could not start: ${startError ?? 'the engine did not start the container'}`);
    if (oomKilled === 'true')
      return failed(`OOMKilled: the container exceeded its memory limit (exit code ${exitCode})`);
    if (exitCode !== 0) return failed(`exit code ${exitCode}`, exitCode);
    const outputs = parseOutputs(await readFile(join(dir, 'outputs'), 'utf8').catch(() => ''));
    if (!outputs.ok) return failed(outputs.error, 0);
    const found = Object.keys(outputs.outputs).length > 0;
    return {
      status: 'SUCCESSFUL',
      exitCode: 0,
      reason: '',
      ...(found && { outputs: outputs.outputs }),
    };
  }
}

/** How soon a stop that left the container running is asked again. */
const RESTOP_INTERVAL_MS = 1000;
/** Where the declared paths are copied out to, in the attempt's directory. */
const PRODUCED_DIR = 'produced';

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .pop()
      ?.replace(/^Error:\s*/, '') || 'no message'
  );
}
