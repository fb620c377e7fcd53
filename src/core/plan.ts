/**
 * A run's plan: the pipeline compiled, parameters applied, and what each job needs to run,
 * decided once at submission so workers never re-interpret the pipeline. Pure.
 */
import { planCondition, type ConditionPlan } from './conditions.ts';
import type { ArtifactInput, ArtifactSpec } from './artifacts.ts';
import { compile, type CompiledPipeline } from './dag.ts';
import { parseDuration } from './durations.ts';
import { expandMatrices } from './matrix.ts';
import { applyParams } from './params.ts';
import type {
  JobCommand,
  JobSpec,
  Pipeline,
  SecretRef,
  WorkspaceMode,
  WorkspaceVolume,
} from './types.ts';
import { workspaceVolumeOf } from './workspace.ts';

/** What a worker needs to run a job. */
export type JobPlan = {
  image: string;
  env: Record<string, string>;
  /** Variables read from secrets when the job starts (by the executor or the worker). */
  secrets?: Record<string, SecretRef>;
  executor: string;
  /** The job's timeout as written (for the reason) and in milliseconds. */
  timeout?: string;
  timeoutMs?: number;
  retries?: JobSpec['retries'];
  /** Its `when` condition, decided by the worker before it runs the job. */
  when?: ConditionPlan;
  resources?: JobSpec['resources'];
  kubernetes?: JobSpec['kubernetes'];
  /** Its use of the run's workspace, when it uses it. */
  workspace?: Exclude<WorkspaceMode, 'none'>;
  /** What it stores when it ends SUCCESSFUL, and the ancestors' artifacts it receives. */
  artifacts?: ArtifactSpec[];
  inputs?: ArtifactInput[];
  /** A forEach instance's item, set by the transition that created it (src/core/foreach.ts). */
  item?: string;
  /** The workspace's volume settings for Kubernetes, when the job uses it and the pipeline has any. */
  workspaceVolume?: WorkspaceVolume;
} & JobCommand;

export interface RunPlan {
  pipeline: Pipeline;
  compiled: CompiledPipeline;
  jobs: Record<string, JobPlan>;
  params: Record<string, string>;
  labels: Record<string, string>;
}

/**
 * A job's use of the run's workspace: its own `workspace`, else the pipeline's `workspace.mode`
 * when the pipeline declares a workspace, else none.
 */
export function workspaceOf(
  pipeline: Pipeline,
  spec: JobSpec,
): Pick<JobPlan, 'workspace' | 'workspaceVolume'> {
  const mode =
    spec.workspace ?? (pipeline.workspace ? (pipeline.workspace.mode ?? 'readWrite') : 'none');
  if (mode === 'none') return {};
  const volume = workspaceVolumeOf(pipeline);
  return { workspace: mode, ...(volume && { workspaceVolume: volume }) };
}

export function planRun(
  submitted: Pipeline,
  params: Record<string, string>,
  options: { defaultExecutor: string; labels?: Record<string, string> },
): RunPlan {
  // What runs: matrix jobs replaced by their instances.
  const pipeline = expandMatrices(submitted);
  const jobs: Record<string, JobPlan> = {};
  for (const [name, spec] of Object.entries(pipeline.jobs)) {
    const when = planCondition(pipeline, name, params);
    jobs[name] = {
      ...applyParams(spec, params),
      executor: spec.executor ?? options.defaultExecutor,
      ...(spec.timeout !== undefined && {
        timeout: spec.timeout,
        timeoutMs: parseDuration(spec.timeout),
      }),
      ...(spec.retries && { retries: spec.retries }),
      ...(when && { when }),
      ...(spec.resources && { resources: spec.resources }),
      ...(spec.kubernetes && { kubernetes: spec.kubernetes }),
      ...workspaceOf(pipeline, spec),
      ...(spec.artifacts?.length && { artifacts: spec.artifacts }),
      ...(spec.inputs?.artifacts?.length && { inputs: spec.inputs.artifacts }),
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
