/**
 * A pure, in-memory run of a pipeline with given outcomes: what the services do with a run
 * (settle, start the ready jobs, record each result), without I/O. Used by the tests and good
 * for dry runs ("what happens if `load` fails?").
 */
import { compile, runStatusOf, settle, statusOf } from './dag.ts';
import type { JobStatus, Pipeline, RunStatus } from './types.ts';

/** How a job that started ends (SKIPPED: its `when` condition was false). */
export type Outcome = 'SUCCESSFUL' | 'FAILED' | 'CANCELED' | 'SKIPPED';

export type SimulationEvent =
  | {
      type: 'start';
      job: string;
      /** its dependencies' statuses when it started */ deps: Record<string, JobStatus>;
    }
  | { type: 'finish'; job: string; status: Outcome }
  | { type: 'skip'; job: string; reason: string };

export interface Simulation {
  statuses: Record<string, JobStatus>;
  status: RunStatus;
  events: SimulationEvent[];
  /** The run's status after each step (once skips are settled), from the freshly created run on. */
  history: RunStatus[];
}

/**
 * Runs a pipeline to its end. At each step one action is taken among "start a ready job" and
 * "finish a running job": `choose(n)` picks which of the n possible ones (by default the first,
 * so ready jobs are started before running ones finish).
 */
export function simulate(
  pipeline: Pipeline,
  outcome: (job: string) => Outcome,
  choose: (n: number) => number = () => 0,
): Simulation {
  const compiled = compile(pipeline);
  let statuses: Record<string, JobStatus> = {};
  for (const name of Object.keys(compiled.jobs)) statuses[name] = 'PENDING';
  const events: SimulationEvent[] = [];
  const history: RunStatus[] = [];
  for (;;) {
    const settled = settle(compiled, statuses);
    statuses = settled.statuses;
    for (const s of settled.skipped) events.push({ type: 'skip', job: s.job, reason: s.reason });
    history.push(runStatusOf(compiled, statuses));
    const running = Object.keys(statuses).filter((name) => statuses[name] === 'RUNNING');
    const actions = [
      ...settled.ready.map((job) => ({ start: true, job })),
      ...running.map((job) => ({ start: false, job })),
    ];
    if (actions.length === 0) break;
    const n = choose(actions.length);
    const action = actions[((n % actions.length) + actions.length) % actions.length];
    if (!action) break;
    if (action.start) {
      const deps: Record<string, JobStatus> = {};
      for (const edge of compiled.jobs[action.job]?.deps ?? []) {
        deps[edge.job] = statusOf(statuses, edge.job);
      }
      events.push({ type: 'start', job: action.job, deps });
      statuses = { ...statuses, [action.job]: 'RUNNING' };
    } else {
      const status = outcome(action.job);
      events.push({ type: 'finish', job: action.job, status });
      statuses = { ...statuses, [action.job]: status };
    }
  }
  return { statuses, status: runStatusOf(compiled, statuses), events, history };
}
