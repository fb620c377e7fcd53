/**
 * What must not outlive this process — a child process (a private redis-server, a benchmark's
 * client), a temporary directory — is cleaned up when it exits, however it exits: the end of its
 * work, an error, process.exit, or SIGINT/SIGTERM once `exitOnSignals` has been called. (Only
 * SIGKILL escapes: nothing runs then.)
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const cleanups = new Set<() => void>();
let exitHookInstalled = false;

/** Runs `cleanup` (synchronous: an exit allows nothing else) when this process exits; returns its cancel. */
export function atExit(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of cleanups) c();
    });
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Sends `child` SIGTERM when this process exits, unless it has exited before. */
export function endsWithThisProcess<T extends ChildProcess>(child: T): T {
  child.once(
    'exit',
    atExit(() => child.kill('SIGTERM')),
  );
  return child;
}

/** Removes `dir` when this process exits; the function returned removes it now instead. */
export function removedOnExit(dir: string): () => void {
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const cancel = atExit(remove);
  return () => {
    cancel();
    remove();
  };
}

/**
 * Exits with 130 on SIGINT and 143 on SIGTERM (the shell's codes for them) instead of dying at
 * once, so that the cleanups above run: for a command whose only cleanup is theirs.
 */
export function exitOnSignals(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}
