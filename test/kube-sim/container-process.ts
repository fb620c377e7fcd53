/**
 * Runs a pod's first container as a local process: its command and args (no image entrypoint
 * exists here), only its own environment plus PATH/HOSTNAME/HOME, in its own process group and a
 * sandbox directory. Whole arguments and environment values that are paths under an emptyDir
 * mount or the termination message path are mapped into the sandbox.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { PodLog } from './pod-log.ts';
import type { Terminated } from './pod-status.ts';
import { apiTime } from './store.ts';

export function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function pathMapper(container: IContainer, sandbox: string): (value: string) => string {
  const mounts = (container.volumeMounts ?? [])
    .map((m) => [m.mountPath, join(sandbox, 'volumes', m.name)] as const)
    .sort(([a], [b]) => b.length - a.length);
  for (const [, dir] of mounts) mkdirSync(dir, { recursive: true });
  const termination = container.terminationMessagePath ?? '/dev/termination-log';
  return (value) => {
    if (value === termination) return join(sandbox, 'termination-log');
    for (const [mountPath, dir] of mounts)
      if (value === mountPath || value.startsWith(`${mountPath}/`))
        return dir + value.slice(mountPath.length);
    return value;
  };
}

function terminationMessage(
  sandbox: string,
  container: IContainer,
  log: PodLog,
  exitCode: number,
): string {
  let message = '';
  try {
    // The kubelet reads at most 4096 bytes of the file.
    message = readFileSync(join(sandbox, 'termination-log')).subarray(0, 4096).toString();
  } catch {
    // no file: no message
  }
  if (
    message === '' &&
    container.terminationMessagePolicy === 'FallbackToLogsOnError' &&
    exitCode !== 0
  )
    return log.tail(80, 2048);
  return message;
}

export interface ContainerHooks {
  /** The process started (pid known). */
  started(child: ChildProcess, startedAt: string): void;
  /** Whether the container was OOM-killed (decided by a fault while it ran). */
  oomKilled(): boolean;
}

export async function runContainer(
  podName: string,
  container: IContainer,
  sandbox: string,
  log: PodLog,
  hooks: ContainerHooks,
): Promise<Terminated> {
  const map = pathMapper(container, sandbox);
  const [file, ...args] = [...(container.command ?? []), ...(container.args ?? [])].map(map);
  if (file === undefined)
    return {
      exitCode: 128,
      reason: 'StartError',
      message: 'kube-sim runs only containers with a command',
    };
  const rootfs = join(sandbox, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  writeFileSync(join(sandbox, 'termination-log'), ''); // the kubelet creates it, empty
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOSTNAME: podName,
    HOME: rootfs,
  };
  for (const e of container.env ?? []) env[e.name] = map(e.value ?? '');
  const child = spawn(file, args, {
    cwd: rootfs,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const startedAt = apiTime();
  let open = 2;
  const drained = new Promise<void>((done) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (l) => log.append(l));
      stream.on('close', () => (open -= 1) === 0 && done());
    }
  });
  const exit = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error?: Error;
  }>((done) => {
    child.once('error', (error) => done({ code: null, signal: null, error }));
    child.once('spawn', () => hooks.started(child, startedAt));
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  killGroup(child, 'SIGKILL'); // what the command left behind dies with the container
  if (exit.error)
    return {
      exitCode: 128,
      reason: 'StartError',
      message: `exec: "${file}": ${exit.error.message}`,
    };
  await drained;
  const exitCode = exit.code ?? 128 + (constants.signals[exit.signal ?? 'SIGKILL'] ?? 9);
  const oom = hooks.oomKilled();
  return {
    exitCode: oom ? 137 : exitCode,
    reason: oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
    message: terminationMessage(sandbox, container, log, exitCode),
    startedAt,
  };
}
