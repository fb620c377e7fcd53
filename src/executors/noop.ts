/**
 * The noop executor: completes every job at once, SUCCESSFUL, without running anything — a dry
 * run of a pipeline's DAG through the whole machinery (queue, transitions, events, logs), and
 * what the benchmarks use to measure chainr itself.
 */
import type { ExecutionResult, Executor } from './executor.ts';

export class NoopExecutor implements Executor {
  readonly name = 'noop';

  run(): Promise<ExecutionResult> {
    return Promise.resolve({ status: 'SUCCESSFUL', exitCode: 0, reason: '' });
  }
}
