/** The pipeline model and the states of runs and jobs, as they appear on the wire. */
import type { ArtifactInput, ArtifactSpec } from './artifacts.ts';

export const JOB_STATUSES = [
  'PENDING',
  'RUNNING',
  'SUCCESSFUL',
  'FAILED',
  'SKIPPED',
  'CANCELED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const RUN_STATUSES = ['PENDING', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Where a notification's delivery stands. */
export const DELIVERY_STATUSES = ['delivered', 'retrying', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = [
  'SUCCESSFUL',
  'FAILED',
  'SKIPPED',
  'CANCELED',
];

export function isTerminalJob(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

export function isTerminalRun(status: RunStatus): boolean {
  return status === 'SUCCESSFUL' || status === 'FAILED' || status === 'CANCELED';
}

export interface DependencyConditions {
  /** Run only when the dependency FAILED (a fallback). */
  failure?: boolean;
  /** Run whatever the dependency ended in (cleanup, like `finally`). */
  always?: boolean;
}

export interface JobDependency {
  job: string;
  conditions?: DependencyConditions;
}

/**
 * An either-of join: the job runs when at least one of these jobs ended SUCCESSFUL (Airflow's
 * `one_success`), once all of them have ended.
 */
export interface AnyOfDependency {
  anyOf: string[];
}

export type Dependency = JobDependency | AnyOfDependency;

export function isAnyOf(dep: Dependency): dep is AnyOfDependency {
  return 'anyOf' in dep;
}

export interface RetryPolicy {
  limit: number;
  backoff?: { type?: 'fixed' | 'exponential'; delay?: string; maxDelay?: string };
}

export interface Quantities {
  cpu?: string;
  memory?: string;
}

/** How a job uses its run's workspace. */
export const WORKSPACE_MODES = ['readWrite', 'readOnly', 'none'] as const;
export type WorkspaceMode = (typeof WORKSPACE_MODES)[number];

/** Access modes a run's workspace volume may ask for on Kubernetes. */
export const WORKSPACE_ACCESS_MODES = [
  'ReadWriteOnce',
  'ReadWriteOncePod',
  'ReadWriteMany',
] as const;
export type WorkspaceAccessMode = (typeof WORKSPACE_ACCESS_MODES)[number];

/** The Kubernetes volume of a run's workspace: a claim made per run, or an existing one. */
export interface WorkspaceVolume {
  /** An existing PersistentVolumeClaim to use instead of one made for the run (never deleted). */
  claimName?: string;
  /** The claim's storage request (default: the deployment's). */
  size?: string;
  storageClassName?: string;
  accessModes?: WorkspaceAccessMode[];
}

/** A directory shared by the jobs of a run, at $CHAINR_WORKSPACE. */
export interface WorkspaceSpec extends WorkspaceVolume {
  /** How the jobs that do not say otherwise use it (default readWrite). */
  mode?: Exclude<WorkspaceMode, 'none'>;
}

/** A value kept in a secret: a key of a Kubernetes Secret, or of the worker's secrets. */
export interface SecretRef {
  name: string;
  key: string;
}

/** An environment value: written in the pipeline, or read from a secret when the job starts. */
export type EnvValue = string | { secret: SecretRef };

export function isSecretValue(value: EnvValue): value is { secret: SecretRef } {
  return typeof value !== 'string';
}

export interface JobSpec {
  image: string;
  /** A shell command, run as `sh -c`; or else `command`. */
  run?: string;
  /** Instead of `run`: the program and its first arguments, run without a shell. */
  command?: string[];
  /** More arguments for `command`'s program. */
  args?: string[];
  dependsOn?: Dependency[];
  /**
   * A CEL expression over `params` and the dependencies' `status` and `outputs`
   * (`jobs.<name>`): when false, the job is SKIPPED instead of run.
   */
  when?: string;
  /** A FAILED end of this job does not make the run FAILED (a tolerated failure). */
  allowFailure?: boolean;
  /** One instance of the job per combination of these values (src/core/matrix.ts). */
  matrix?: Record<string, string[]>;
  /** At most this many instances of the matrix at once. */
  maxParallel?: number;
  /** A FAILED instance of the matrix skips its instances that have not started. */
  failFast?: boolean;
  /**
   * `${{ jobs.<name>.outputs.<key> }}`: one instance per item of the JSON array that output of
   * a dependency holds, created when the job is decided (src/core/foreach.ts).
   */
  forEach?: string;
  /** Set by the expansion of a matrix job, not written by authors: the job it is an instance of. */
  matrixOf?: string;
  env?: Record<string, EnvValue>;
  /** A duration such as `90s` or `15m`. */
  timeout?: string;
  retries?: RetryPolicy;
  resources?: { requests?: Quantities; limits?: Quantities };
  executor?: 'local' | 'kubernetes' | 'container' | 'noop';
  /** Its use of the run's workspace; a job that names a mode asks for one. */
  workspace?: WorkspaceMode;
  /** Files or directories it produces, stored when it ends SUCCESSFUL. */
  artifacts?: ArtifactSpec[];
  /** What it receives from its ancestors before it starts. */
  inputs?: { artifacts?: ArtifactInput[] };
  kubernetes?: {
    serviceAccountName?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: {
      key?: string;
      operator?: 'Exists' | 'Equal';
      value?: string;
      effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
      tolerationSeconds?: number;
    }[];
    imagePullSecrets?: string[];
  };
}

/**
 * What a job runs: a shell command (`sh -c <run>`), or a program and its arguments (`argv`,
 * `command` followed by `args`) run without a shell, for images that have none.
 */
export type JobCommand = { run: string; argv?: undefined } | { argv: string[]; run?: undefined };

export interface ParamSpec {
  default?: string;
  description?: string;
}

/** Optional information about a pipeline that does not change how it runs. */
export interface PipelineMetadata {
  name?: string;
  labels?: Record<string, string>;
}

/** What a notification rule can be triggered by: a run's transitions, then its jobs'. */
export const NOTIFICATION_EVENTS = [
  'start',
  'success',
  'failure',
  'canceled',
  'end',
  'job-start',
  'job-success',
  'job-failure',
  'job-skipped',
  'job-canceled',
  'job-retry',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** A webhook defined in the pipeline itself (JSON POST, signed when it has a secret). */
export interface InlineWebhook {
  url: string;
  /** Shared secret of the `X-Chainr-Signature` HMAC-SHA256 header. */
  secret?: string;
  headers?: Record<string, string>;
  /** A duration such as `10s`. */
  timeout?: string;
}

/** An e-mail defined in the pipeline itself, sent through the deployment's SMTP server. */
export interface InlineEmail {
  to: string[];
  subject?: string;
}

/** A medium configured for the deployment (by name), or one defined inline. */
export type NotificationTarget = string | { webhook: InlineWebhook } | { email: InlineEmail };

/** Send a notification to `to` when one of the events in `on` happens in a run. */
export interface NotificationRule {
  on: NotificationEvent[];
  to: NotificationTarget;
}

export interface Pipeline {
  kind: 'Pipeline';
  metadata?: PipelineMetadata;
  params?: Record<string, ParamSpec>;
  /** At most this many jobs of one run at once. */
  concurrency?: number;
  /** A directory shared by the run's jobs. */
  workspace?: WorkspaceSpec;
  jobs: Record<string, JobSpec>;
  /** Who is told about the pipeline's runs, and when. */
  notifications?: NotificationRule[];
}

/** A problem in a pipeline document, located by its path (`jobs.error.dependsOn[0].job`). */
export interface PipelineError {
  path: string;
  message: string;
  /** 1-based position in the source text, when the document was parsed from text. */
  line?: number;
  column?: number;
}

export type ValidationResult =
  | {
      ok: true;
      pipeline: Pipeline;
      /** Given with a submission. */
      params?: Record<string, string>;
      /** A submission's other fields (ValidateOptions.envelopeKeys). */
      envelope?: Record<string, unknown>;
    }
  | { ok: false; errors: PipelineError[] };
