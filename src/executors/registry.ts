/** The executors a worker can use, by name, and which one runs a job that names none. */
import type { Executor } from './executor.ts';

export class ExecutorRegistry {
  private readonly byName = new Map<string, Executor>();

  constructor(
    executors: Executor[],
    /** The deployment's default (CHAINR_EXECUTOR). */
    readonly defaultName: string,
  ) {
    // The default need not be among them: sched resolves it, and refuses jobs for an executor
    // the deployment does not offer (config.ts: executorRefusal).
    for (const e of executors) this.byName.set(e.name, e);
  }

  /** Closes every executor that keeps something open (watches) between attempts. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.byName.values()].map((e) => (e.close ? e.close() : Promise.resolve())),
    );
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The executor for a job; undefined when the job names one this worker does not have. */
  get(name: string | undefined): Executor | undefined {
    return this.byName.get(name ?? this.defaultName);
  }
}
