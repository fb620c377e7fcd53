/**
 * A run's plan: the pipeline compiled, parameters applied, and what each job needs to run,
 * decided once at submission so workers never re-interpret the pipeline. Pure.
 */
import { compile, type CompiledPipeline } from './dag.ts';
import { parseDuration } from './durations.ts';
import { applyParams } from './params.ts';
import type { JobSpec, Pipeline } from './types.ts';

/** What a worker needs to run a job. */
export interface JobPlan {
  image: string;
  run: string;
  env: Record<string, string>;
  executor: string;
  /** The job's timeout as written (for the reason) and in milliseconds. */
  timeout?: string;
  timeoutMs?: number;
  retries?: JobSpec['retries'];
  resources?: JobSpec['resources'];
  kubernetes?: JobSpec['kubernetes'];
}

export interface RunPlan {
  pipeline: Pipeline;
  compiled: CompiledPipeline;
  jobs: Record<string, JobPlan>;
  params: Record<string, string>;
  labels: Record<string, string>;
}

export function planRun(
  pipeline: Pipeline,
  params: Record<string, string>,
  options: { defaultExecutor: string; labels?: Record<string, string> },
): RunPlan {
  const jobs: Record<string, JobPlan> = {};
  for (const [name, spec] of Object.entries(pipeline.jobs)) {
    jobs[name] = {
      ...applyParams(spec, params),
      executor: spec.executor ?? options.defaultExecutor,
      ...(spec.timeout !== undefined && {
        timeout: spec.timeout,
        timeoutMs: parseDuration(spec.timeout),
      }),
      ...(spec.retries && { retries: spec.retries }),
      ...(spec.resources && { resources: spec.resources }),
      ...(spec.kubernetes && { kubernetes: spec.kubernetes }),
    };
  }
  return {
    pipeline,
    compiled: compile(pipeline),
    jobs,
    params,
    labels: { ...pipeline.metadata?.labels, ...options.labels },
  };
}
