/**
 * The local executor: each job is `sh -c "<run>"` on this host, in its own process group and a
 * fresh working directory that is removed afterwards. The image is ignored. The job does not
 * inherit the worker's environment (which may hold secrets such as REDIS_PASSWORD): it gets
 * PATH, LANG, HOME (its working directory) and the job's own variables.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MAX_OUTPUTS_BYTES, parseOutputs } from '../core/outputs.ts';
import type { ExecutionIO, ExecutionRequest, ExecutionResult, Executor } from './executor.ts';
import { jobEnvironment } from './executor.ts';

export interface LocalExecutorOptions {
  /** Time between SIGTERM and SIGKILL when a job is stopped. */
  killGraceMs?: number;
  /** Parent of the jobs' working directories. */
  workRoot?: string;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly killGraceMs: number;
  private readonly workRoot: string;

  constructor(options: LocalExecutorOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? 5000;
    this.workRoot = options.workRoot ?? tmpdir();
  }

  async run(request: ExecutionRequest, io: ExecutionIO): Promise<ExecutionResult> {
    if (io.signal.aborted)
      return { status: 'FAILED', exitCode: null, reason: 'canceled before start' };
    const cwd = await mkdtemp(join(this.workRoot, 'chainr-job-'));
    try {
      const outputsFile = join(cwd, '.chainr-outputs');
      const result = await this.spawnJob(request, io, cwd, outputsFile);
      return result.status === 'SUCCESSFUL' ? await withOutputs(result, outputsFile) : result;
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }

  private spawnJob(
    request: ExecutionRequest,
    io: ExecutionIO,
    cwd: string,
    outputsFile: string,
  ): Promise<ExecutionResult> {
    return new Promise((resolve) => {
      const child = spawn('sh', ['-c', request.run], {
        cwd,
        detached: true, // its own process group, so that stopping it stops its children too
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
          LANG: process.env.LANG ?? 'C.UTF-8',
          HOME: cwd,
          CHAINR_OUTPUTS: outputsFile,
          ...jobEnvironment(request),
        },
      });
      let stopReason: string | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        if (child.pid === undefined || stopReason !== undefined) return;
        stopReason = String(io.signal.reason ?? 'canceled');
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(
          () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'),
          this.killGraceMs,
        );
      };
      io.signal.addEventListener('abort', stop, { once: true });
      // An abort while the working directory was being made has already fired: act on it now.
      if (io.signal.aborted) stop();

      const streams = [
        ['stdout', child.stdout],
        ['stderr', child.stderr],
      ] as const;
      let open = streams.length;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let spawnError: Error | undefined;
      const settle = () => {
        if (open > 0 || (exit === undefined && spawnError === undefined)) return;
        io.signal.removeEventListener('abort', stop);
        clearTimeout(killTimer);
        resolve(this.result(exit, spawnError, stopReason));
      };
      for (const [name, stream] of streams) {
        createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
          io.onLog(line, name),
        );
        stream.on('close', () => {
          open -= 1;
          settle();
        });
      }
      child.on('error', (err) => {
        spawnError = err;
        settle();
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // Whatever the job left running in its group goes with it (and releases the pipes).
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
        settle();
      });
    });
  }

  private result(
    exit: { code: number | null; signal: NodeJS.Signals | null } | undefined,
    spawnError: Error | undefined,
    stopReason: string | undefined,
  ): ExecutionResult {
    if (spawnError)
      return { status: 'FAILED', exitCode: null, reason: `could not start: ${spawnError.message}` };
    if (stopReason !== undefined)
      return { status: 'FAILED', exitCode: exit?.code ?? null, reason: stopReason };
    if (exit?.code === 0) return { status: 'SUCCESSFUL', exitCode: 0, reason: '' };
    if (exit?.code != null)
      return { status: 'FAILED', exitCode: exit.code, reason: `exit code ${exit.code}` };
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `killed by signal ${exit?.signal ?? 'unknown'}`,
    };
  }
}

/** Adds the outputs the job wrote; invalid or oversized outputs fail the job, saying why. */
async function withOutputs(result: ExecutionResult, file: string): Promise<ExecutionResult> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_OUTPUTS_BYTES) {
      const reason = `outputs are ${size} bytes, more than the limit of ${MAX_OUTPUTS_BYTES}`;
      return { status: 'FAILED', exitCode: result.exitCode, reason };
    }
    text = await readFile(file, 'utf8');
  } catch {
    return result; // no outputs written
  }
  const parsed = parseOutputs(text);
  if (!parsed.ok) return { status: 'FAILED', exitCode: result.exitCode, reason: parsed.error };
  return { ...result, outputs: parsed.outputs };
}
