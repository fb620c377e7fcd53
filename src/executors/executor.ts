/** The interface every executor implements: run one attempt of one job to its end. */

export interface ExecutionRequest {
  uid: string;
  job: string;
  attempt: number;
  image: string;
  /** Shell command, run as `sh -c`. */
  run: string;
  /** Variables set for the job, on top of the executor's minimal base environment. */
  env: Record<string, string>;
  /** Stop the job and fail it after this long (the job's `timeout`). */
  timeoutMs?: number;
  /** Kubernetes quantities, e.g. `{ requests: { cpu: '250m', memory: '64Mi' }, limits: {...} }`. */
  resources?: Resources;
  /** Pod settings for the kubernetes executor. */
  kubernetes?: KubernetesJobSettings;
}

export interface Resources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

export interface KubernetesJobSettings {
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
}

export interface ExecutionIO {
  /**
   * A line of the job's log. `position`, from an executor that can re-attach to a job that
   * outlived its worker, says (in its own terms) where the job's log stands once this line is
   * recorded; it is recorded in the same write as the line, so it never covers an unrecorded line.
   */
  onLog(line: string, stream: 'stdout' | 'stderr', position?: string): void;
  /** The `position` recorded with the job's latest line that has one, by any worker. */
  recordedPosition?(): Promise<string | undefined>;
  /** Aborted when the run is canceled or the worker shuts down: stop the job at once. */
  signal: AbortSignal;
}

export interface ExecutionResult {
  status: 'SUCCESSFUL' | 'FAILED';
  /** The process's exit code, or null when it did not exit on its own. */
  exitCode: number | null;
  /** Human-readable cause of a failure; empty on success. */
  reason: string;
  /** `key=value` pairs the job wrote to its outputs file ($CHAINR_OUTPUTS), at most 4 KiB. */
  outputs?: Record<string, string>;
}

export interface Executor {
  readonly name: string;
  run(request: ExecutionRequest, io: ExecutionIO): Promise<ExecutionResult>;
}

/**
 * The abort reason of a worker that stops without the attempt being over: not the job's outcome.
 * Executors that can leave the job running (Kubernetes, containers) detach so that the attempt's
 * next worker re-attaches; the worker then records nothing for the attempt.
 */
export const WORKER_SHUTDOWN_REASON = 'worker shutting down';

/** The environment every job gets, whatever the executor. */
export function jobEnvironment(request: ExecutionRequest): Record<string, string> {
  return {
    ...request.env,
    CHAINR_RUN_UID: request.uid,
    CHAINR_JOB_NAME: request.job,
    CHAINR_ATTEMPT: String(request.attempt),
  };
}
