/** The pipeline model and the states of runs and jobs, as they appear on the wire. */

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

export interface Dependency {
  job: string;
  conditions?: DependencyConditions;
}

export interface RetryPolicy {
  limit: number;
  backoff?: { type?: 'fixed' | 'exponential'; delay?: string; maxDelay?: string };
}

export interface Quantities {
  cpu?: string;
  memory?: string;
}

export interface JobSpec {
  image: string;
  /** A shell command, run as `sh -c`. */
  run: string;
  dependsOn?: Dependency[];
  env?: Record<string, string>;
  /** A duration such as `90s` or `15m`. */
  timeout?: string;
  retries?: RetryPolicy;
  resources?: { requests?: Quantities; limits?: Quantities };
  executor?: 'local' | 'kubernetes' | 'container' | 'noop';
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
