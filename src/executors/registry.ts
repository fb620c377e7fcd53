/** The executors a worker can use, by name, and which one runs a job that names none. */
import type { Executor } from './executor.ts';

export class ExecutorRegistry {
  private readonly byName = new Map<string, Executor>();

  constructor(
    executors: Executor[],
    /** The deployment's default (CHAINR_EXECUTOR). */
    readonly defaultName: string,
  ) {
    for (const e of executors) this.byName.set(e.name, e);
    if (!this.byName.has(defaultName)) {
      throw new Error(
        `default executor "${defaultName}" is not one of: ${this.names().join(', ')}`,
      );
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The executor for a job; undefined when the job names one this worker does not have. */
  get(name: string | undefined): Executor | undefined {
    return this.byName.get(name ?? this.defaultName);
  }
}
