/** The objects of the chainr API as the client sees them, and the two ways a call can fail. */
import type { JobStatus, RunStatus } from '../core/types.ts';

export interface JobView {
  name: string;
  status: JobStatus;
  attempt?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
}

export interface Run {
  kind: 'Run';
  metadata: {
    uid: string;
    selfLink?: string;
    creationTimestamp?: string;
    name?: string;
    labels?: Record<string, string>;
  };
  /** The run's parameters, defaults included */
  params?: Record<string, string>;
  status: RunStatus;
  reason?: string;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  jobs: JobView[];
  pipeline?: unknown;
}

export interface RunList {
  kind: 'RunList';
  metadata: { selfLink?: string; continue?: string };
  items: Run[];
}

/** One transition, as `job` and `run` events carry it (`job` absent for the run's own). */
export interface TransitionEvent {
  id?: string;
  uid: string;
  job?: string;
  status: RunStatus | JobStatus;
  reason?: string;
  /** ms since epoch, by the server's clock */
  time: number;
}

export type RunStreamItem =
  { kind: 'snapshot'; run: Run } | { kind: 'transition'; event: TransitionEvent } | { kind: 'end' };

export interface ErrorDetail {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export class UnreachableError extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    super(
      `cannot reach the chainr server at ${server} (${reason}). Start one with \`chainr up\`, ` +
        'or point --server or CHAINR_SERVER at yours.',
    );
  }
}

/** Why a request got no answer, in a few words (`connection refused`, `timed out`). */
export function networkReason(err: unknown): string {
  // fetch throws "fetch failed"; what happened is in its cause
  const cause =
    err instanceof Error
      ? (err.cause as { code?: string; message?: string } | undefined)
      : undefined;
  const code = cause?.code ?? (err as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection lost';
  if (err instanceof Error && (err.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT'))
    return 'timed out';
  if (err instanceof Error && err.message === 'terminated') return 'connection lost';
  return code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
