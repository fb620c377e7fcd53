/**
 * Which executors the live workers serve (their registrations: InstanceRecord.executors), read at
 * most once a second, so that a job waiting in the queue of an executor no live worker serves
 * says so instead of waiting silently, and a submission of such a job is answered with a warning.
 */
import type { InstanceStore } from '../../store/instances.ts';
import type { Unserved } from './views.ts';

/** How long the live workers' executors are reused before they are read again. */
const FRESH_MS = 1000;

/** The reasons for one read of the live workers' executors, each written once. */
function unservedReasons(served: Set<string>): Unserved {
  const list = [...served].sort().join(', ');
  const reasons = new Map<string, string>();
  return (executor) => {
    if (served.has(executor)) return undefined;
    let reason = reasons.get(executor);
    if (reason === undefined) {
      reason = `no live worker serves the "${executor}" executor (${list ? `live workers serve: ${list}` : 'no worker is running'})`;
      reasons.set(executor, reason);
    }
    return reason;
  };
}

export class WorkerCoverage {
  private read: { at: number; unserved: Promise<Unserved> } | undefined;

  constructor(private readonly instances: InstanceStore) {}

  /** Why a job of an executor would wait for ever as things are, as of the last read (fresh within FRESH_MS). */
  unserved(): Promise<Unserved> {
    const now = Date.now();
    if (!this.read || now - this.read.at > FRESH_MS) {
      const unserved = this.instances
        .live()
        .then((live) =>
          unservedReasons(
            new Set(live.filter((i) => i.service === 'work').flatMap((i) => i.executors ?? [])),
          ),
        );
      this.read = { at: now, unserved };
      // A failed read is not kept: the next caller reads again.
      unserved.catch(() => (this.read = undefined));
    }
    return this.read.unserved;
  }
}
