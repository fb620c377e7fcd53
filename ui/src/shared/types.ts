/** The API's objects as the UI reads them (docs/openapi.json); newer fields are optional. */
import type { JobStatus, Pipeline, PipelineError, RunStatus } from '../../../src/core/types.ts';

export type { JobStatus, Pipeline, PipelineError, RunStatus };

export interface JobAttempt {
  attempt: number;
  status: JobStatus;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
}

export interface Job {
  name: string;
  status: JobStatus;
  attempt?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  attempts?: JobAttempt[];
  outputs?: Record<string, string>;
}

export interface RunMetadata {
  uid: string;
  selfLink: string;
  creationTimestamp?: string;
  name?: string;
  labels?: Record<string, string>;
}

export interface Run {
  kind: 'Run';
  metadata: RunMetadata;
  status: RunStatus;
  reason?: string;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  jobs: Job[];
  params?: Record<string, string>;
  /** Present on GET /api/runs/{uid}. */
  pipeline?: Pipeline;
}

export interface RunList {
  kind: 'RunList';
  metadata: { selfLink: string; continue?: string };
  items: Run[];
}

export type RunCounts = Record<RunStatus, number>;

export interface ApiErrorBody {
  kind: 'Error';
  error: string;
  details?: PipelineError[];
}

/** A transition from the event streams (`job` and `run` events). */
export interface ChainrEvent {
  id?: string;
  uid: string;
  /** Absent for a run's own transitions. */
  job?: string;
  status: RunStatus | JobStatus;
  reason?: string;
  /** ms since epoch */
  time: number;
}

/** A generic Kubernetes-style list, for resources whose shape this UI only partly knows. */
export interface ObjectList {
  kind: string;
  items: Record<string, unknown>[];
  metadata?: { continue?: string };
}

export interface Schedule {
  kind: 'Schedule';
  metadata: { uid: string; selfLink: string; name?: string; creationTimestamp?: string };
  cron: string;
  timezone?: string;
  paused: boolean;
  nextRunAt?: string;
  /** The runs it created: an /api/runs path with a label selector. */
  runs?: string;
  params?: Record<string, string>;
  pipeline: Pipeline;
}

export interface ScheduleList {
  kind: 'ScheduleList';
  metadata: { selfLink: string; continue?: string };
  items: Schedule[];
}

export interface NewSchedule {
  name?: string;
  cron: string;
  timezone?: string;
  pipeline: Pipeline;
  params?: Record<string, string>;
}
