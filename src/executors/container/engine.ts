/** The docker or podman command line, run as child processes. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Starts `<engine> <args>` with the worker's environment plus `env`. */
export type SpawnEngine = (args: string[], env?: Record<string, string>) => ChildProcess;

export function engineSpawner(command: string, base: NodeJS.ProcessEnv = process.env): SpawnEngine {
  return (args, env = {}) =>
    spawn(command, args, {
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C meant for the worker must not reach an attached CLI,
      // which would pass it on to the container.
      detached: true,
    });
}

export interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and collects its output. */
export function capture(child: ChildProcess): Promise<Captured> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: null, stdout, stderr: `${stderr}${err.message}` }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The engine to use: the configured one, else podman or docker, whichever answers `version`
 * (a docker CLI without a reachable daemon does not).
 */
export function detectEngine(configured?: string): string | undefined {
  for (const candidate of configured ? [configured] : ['podman', 'docker']) {
    const probe = spawnSync(candidate, ['version'], { stdio: 'ignore', timeout: 15_000 });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}
