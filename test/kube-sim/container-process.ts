/**
 * Runs a pod's container as a local process: its command and args (no image entrypoint exists
 * here), only its own environment plus PATH/HOSTNAME/HOME, in its own process group and a
 * directory of its own in the pod's sandbox (its root filesystem and termination message: the
 * pod's containers do not share them). Whole arguments and environment values that are paths under an emptyDir mount or the
 * termination message path are mapped into the sandbox (the pod's containers share its volumes).
 * An image may be given a directory as its files (`images`): an absolute command path is then
 * looked up there. `$(NAME)` and `$$` in the command, args and variable values are expanded as
 * the kubelet expands them.
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

/** Image name → the directory that stands for its files. */
export type ImageFiles = Record<string, string>;

/**
 * The kubelet's expansion (Kubernetes' third_party/forked/golang/expansion): `$(NAME)` becomes the
 * variable's value when it is defined and stays as written otherwise, `$$` becomes `$`.
 */
export function expandLikeKubelet(text: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const next = text[i + 1];
    if (text[i] !== '$' || next === undefined) {
      out += text[i];
    } else if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close === -1) {
        out += '$(';
        i += 1;
      } else {
        const name = text.slice(i + 2, close);
        out += vars.get(name) ?? `$(${name})`;
        i = close;
      }
    } else {
      out += `$${next}`;
      i += 1;
    }
  }
  return out;
}

/** `volumeDirs`: volumes that live outside the pod (bound claims), by name. */
function pathMapper(
  container: IContainer,
  sandbox: string,
  own: string,
  volumeDirs: Record<string, string>,
): (value: string) => string {
  const mounts = (container.volumeMounts ?? [])
    .map((m) => [m.mountPath, volumeDirs[m.name] ?? join(sandbox, 'volumes', m.name)] as const)
    .sort(([a], [b]) => b.length - a.length);
  for (const [, dir] of mounts) mkdirSync(dir, { recursive: true });
  const termination = container.terminationMessagePath ?? '/dev/termination-log';
  return (value) => {
    if (value === termination) return join(own, 'termination-log');
    for (const [mountPath, dir] of mounts)
      if (value === mountPath || value.startsWith(`${mountPath}/`))
        return dir + value.slice(mountPath.length);
    return value;
  };
}

function terminationMessage(
  own: string,
  container: IContainer,
  log: PodLog,
  exitCode: number,
): string {
  let message = '';
  try {
    // The kubelet reads at most 4096 bytes of the file.
    message = readFileSync(join(own, 'termination-log')).subarray(0, 4096).toString();
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
  images: ImageFiles = {},
  volumeDirs: Record<string, string> = {},
): Promise<Terminated> {
  const own = join(sandbox, 'containers', container.name);
  const map = pathMapper(container, sandbox, own, volumeDirs);
  // Variables may refer to those defined before them; the command and args to all of them.
  const vars = new Map<string, string>();
  // A Secret's value (resolved by the kubelet, valueFrom kept) is not expanded.
  for (const e of container.env ?? [])
    vars.set(e.name, e.valueFrom ? (e.value ?? '') : expandLikeKubelet(e.value ?? '', vars));
  const [written, ...args] = [...(container.command ?? []), ...(container.args ?? [])].map((item) =>
    map(expandLikeKubelet(item, vars)),
  );
  const imageRoot = images[container.image ?? ''];
  const file =
    imageRoot !== undefined && written?.startsWith('/') && written === map(written)
      ? join(imageRoot, written)
      : written;
  if (file === undefined)
    return {
      exitCode: 128,
      reason: 'StartError',
      message: 'kube-sim runs only containers with a command',
    };
  const rootfs = join(own, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  writeFileSync(join(own, 'termination-log'), ''); // the kubelet creates it, empty
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOSTNAME: podName,
    HOME: rootfs,
  };
  for (const [name, value] of vars) env[name] = map(value);
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
      message: `exec: "${written}": ${exit.error.message}`,
    };
  await drained;
  const exitCode = exit.code ?? 128 + (constants.signals[exit.signal ?? 'SIGKILL'] ?? 9);
  const oom = hooks.oomKilled();
  return {
    exitCode: oom ? 137 : exitCode,
    reason: oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
    message: terminationMessage(own, container, log, exitCode),
    startedAt,
  };
}
