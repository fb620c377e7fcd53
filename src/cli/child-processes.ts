/**
 * Child processes that must not outlive this process (a private redis-server, a benchmark's
 * client): each is sent SIGTERM when this process exits, however it exits — the end of its work,
 * an error, process.exit, or SIGINT/SIGTERM once `exitOnSignals` has been called. (Only SIGKILL
 * escapes: nothing runs then.)
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function stopAll(): void {
  for (const child of children) child.kill('SIGTERM');
}

/** Sends `child` SIGTERM when this process exits, unless it has exited before. */
export function endsWithThisProcess<T extends ChildProcess>(child: T): T {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', stopAll);
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Exits with 130 on SIGINT and 143 on SIGTERM (the shell's codes for them) instead of dying at
 * once, so that 'exit' handlers run: for a command whose only cleanup is its children's.
 */
export function exitOnSignals(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}
