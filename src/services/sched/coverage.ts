/**
 * Which executors the live workers serve (their registrations: InstanceRecord.executors), read at
 * most once a second, so that a job waiting in the queue of an executor no live worker serves
 * says so instead of waiting silently, and a submission of such a job is answered with a warning.
 */
import type { InstanceStore } from '../../store/instances.ts';

/** How long the live workers' executors are reused before they are read again. */
const FRESH_MS = 1000;

export class WorkerCoverage {
  private read: { at: number; executors: Promise<Set<string>> } | undefined;

  constructor(private readonly instances: InstanceStore) {}

  private served(): Promise<Set<string>> {
    const now = Date.now();
    if (!this.read || now - this.read.at > FRESH_MS) {
      const executors = this.instances
        .live()
        .then(
          (live) =>
            new Set(live.filter((i) => i.service === 'work').flatMap((i) => i.executors ?? [])),
        );
      this.read = { at: now, executors };
      // A failed read is not kept: the next caller reads again.
      executors.catch(() => (this.read = undefined));
    }
    return this.read.executors;
  }

  /** Why a job of `executor` would wait for ever as things are; undefined when a live worker serves it. */
  async unserved(): Promise<(executor: string) => string | undefined> {
    const served = await this.served();
    const list = [...served].sort().join(', ');
    return (executor) =>
      served.has(executor)
        ? undefined
        : `no live worker serves the "${executor}" executor (${list ? `live workers serve: ${list}` : 'no worker is running'})`;
  }
}
