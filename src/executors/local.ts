/**
 * The local executor: each job is `sh -c "<run>"` on this host, in its own process group and a
 * fresh working directory that is removed afterwards. The image is ignored. The job does not
 * inherit the worker's environment (which may hold secrets such as REDIS_PASSWORD): it gets
 * PATH, LANG, HOME (its working directory) and the job's own variables. Given a job user, jobs
 * run as that user, who can read neither the worker's environment (/proc/<pid>/environ) nor its
 * files; without one, they run as the worker's own user and can. Every group and directory is
 * recorded (local-records.ts), so that none outlives the worker, even a killed one. Input
 * artifacts are placed in the working directory (`$CHAINR_ARTIFACTS`) before the job starts, and
 * its declared artifacts stored from there after a successful end.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { chown, lchown, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS_ENV } from '../core/artifacts.ts';
import { MAX_OUTPUTS_BYTES, parseOutputs } from '../core/outputs.ts';
import type { ExecutionIO, ExecutionRequest, ExecutionResult, Executor } from './executor.ts';
import { jobEnvironment, programOf } from './executor.ts';
import { RunDirectories } from './workspaces.ts';
import { placeInputs, withArtifacts } from './artifact-steps.ts';
import { DEFAULT_MAX_LINE_BYTES, readLines } from './lines.ts';
import { LocalRecords } from './local-records.ts';

/** The unprivileged user jobs run as (CHAINR_LOCAL_USER). */
export interface JobUser {
  name: string;
  uid: number;
  gid: number;
}

export interface LocalExecutorOptions {
  /** Time between SIGTERM and SIGKILL when a job is stopped. */
  killGraceMs?: number;
  /** Parent of the jobs' working directories and of the workers' records (CHAINR_WORK_DIR). */
  workRoot?: string;
  /** Where the runs' workspaces are made (default: `chainr-workspaces` in the temporary directory). */
  workspaces?: RunDirectories;
  /** Run jobs as this user (the worker must be root to); undefined: as the worker's user. */
  user?: JobUser;
}

/**
 * The job's program waits behind this until its process group is recorded: a worker killed between
 * the spawn and the record would otherwise leave a running job that no record names, which the next
 * worker could not end. The worker opens the gate (fd 3) once the group is recorded; a gate closed
 * unopened (the worker gone) ends the job before it starts.
 */
const GATE = 'read -r _ <&3 || exit 1; exec 3<&-; exec "$@"';

/** Where the workers of a host record their jobs, under the work root. */
export const recordsDir = (workRoot: string) => join(workRoot, 'chainr-workers');

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly providesWorkspace = true;
  readonly providesArtifacts = true;
  private readonly killGraceMs: number;
  private readonly workRoot: string;
  private readonly workspaces: RunDirectories;
  private readonly user: JobUser | undefined;
  private readonly records: LocalRecords;

  constructor(options: LocalExecutorOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? 5000;
    this.workRoot = options.workRoot ?? tmpdir();
    this.workspaces = options.workspaces ?? new RunDirectories(join(tmpdir(), 'chainr-workspaces'));
    this.user = options.user;
    // What its starter ends at exit, and a successor after a kill (local-records.ts).
    this.records = new LocalRecords(recordsDir(this.workRoot));
  }

  async run(request: ExecutionRequest, io: ExecutionIO): Promise<ExecutionResult> {
    if (io.signal.aborted)
      return { status: 'FAILED', exitCode: null, reason: 'canceled before start' };
    // Read-only is not enforced here: the job runs as the worker's user, who owns the directory.
    const workspace = request.workspace ? await this.workspaces.prepare(request.uid) : undefined;
    const cwd = await mkdtemp(join(this.workRoot, 'chainr-job-'));
    this.records.addDir(cwd);
    try {
      if (this.user) await chown(cwd, this.user.uid, this.user.gid);
      const outputsFile = join(cwd, '.chainr-outputs');
      const { artifacts } = io;
      const inputs = artifacts?.hasInputs ? join(cwd, '.chainr-artifacts') : undefined;
      if (artifacts && inputs !== undefined) {
        const { user } = this;
        // Given to the job's user, when it has its own (the worker placed them as its own).
        const placed = await placeInputs(artifacts, inputs, async () => {
          if (user) await chownTree(inputs, user);
        });
        if (placed) return placed;
      }
      const result = await this.spawnJob(request, io, cwd, outputsFile, workspace, inputs);
      if (result.status !== 'SUCCESSFUL') return result;
      const recorded = await withOutputs(result, outputsFile);
      return recorded.status === 'SUCCESSFUL' && artifacts
        ? await withArtifacts(recorded, artifacts, cwd)
        : recorded;
    } finally {
      await rm(cwd, { recursive: true, force: true });
      this.records.removeDir(cwd);
    }
  }

  private spawnJob(
    request: ExecutionRequest,
    io: ExecutionIO,
    cwd: string,
    outputsFile: string,
    workspace: string | undefined,
    inputs: string | undefined,
  ): Promise<ExecutionResult> {
    return new Promise((resolve) => {
      const { file, args } = programOf(request);
      const child = spawn('sh', ['-c', GATE, 'sh', file, ...args], {
        cwd,
        detached: true, // its own process group, so that stopping it stops its children too
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        ...(this.user && { uid: this.user.uid, gid: this.user.gid }),
        env: {
          PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
          LANG: process.env.LANG ?? 'C.UTF-8',
          HOME: cwd,
          CHAINR_OUTPUTS: outputsFile,
          ...(workspace !== undefined && { CHAINR_WORKSPACE: workspace }),
          ...(inputs !== undefined && { [ARTIFACTS_ENV]: inputs }),
          ...jobEnvironment(request),
        },
      });
      const pgid = child.pid;
      if (pgid !== undefined) this.records.addGroup(pgid);
      const gate = child.stdio[3] as Writable;
      gate.on('error', () => {}); // EPIPE: the job ended (was stopped) before its gate opened
      gate.end('\n');
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
        ['stdout', child.stdio[1] as Readable],
        ['stderr', child.stdio[2] as Readable],
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
      const maxLineBytes = io.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
      for (const [name, stream] of streams) {
        readLines(stream, maxLineBytes, (line) => io.onLog(line, name));
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
        if (pgid !== undefined) {
          killGroup(pgid, 'SIGKILL');
          this.records.removeGroup(pgid);
        }
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

/** Gives `dir` and everything under it to the job's user (the worker placed them as its own). */
async function chownTree(dir: string, user: JobUser): Promise<void> {
  await chown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { recursive: true })) {
    await lchown(join(dir, entry), user.uid, user.gid);
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
