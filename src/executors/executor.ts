/** The interface every executor implements: run one attempt of one job to its end. */
import type { ArtifactLimits, AttemptKey, PlacedInput } from '../artifacts/transfer.ts';
import type { ArtifactRecord, ArtifactSpec } from '../core/artifacts.ts';
import type { JobCommand, SecretRef, WorkspaceVolume } from '../core/types.ts';

/** One attempt of a job, and what it runs: `run` as `sh -c`, or `argv` without a shell. */
export type ExecutionRequest = ExecutionSettings & JobCommand;

export interface ExecutionSettings {
  uid: string;
  job: string;
  attempt: number;
  image: string;
  /** Variables set for the job, on top of the executor's minimal base environment. */
  env: Record<string, string>;
  /** Stop the job and fail it after this long (the job's `timeout`). */
  timeoutMs?: number;
  /** Kubernetes quantities, e.g. `{ requests: { cpu: '250m', memory: '64Mi' }, limits: {...} }`. */
  resources?: Resources;
  /** Pod settings for the kubernetes executor. */
  kubernetes?: KubernetesJobSettings;
  /**
   * The run's workspace, at $CHAINR_WORKSPACE, when the job uses it; `volume`: the pipeline's
   * settings of its Kubernetes volume.
   */
  workspace?: { readOnly: boolean; volume?: WorkspaceVolume };
  /** Variables whose values the executor has read where the job runs (secretsByReference). */
  secrets?: Record<string, SecretRef>;
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
  /**
   * Bytes of a log line kept (CHAINR_LOG_LINE_BYTES; default DEFAULT_MAX_LINE_BYTES): a longer
   * line is cut, with a marker (lines.ts), and never held whole in memory.
   */
  maxLineBytes?: number;
  /** The job's artifacts, when it produces or receives any (Executor.providesArtifacts). */
  artifacts?: ArtifactTransfer;
}

/** Moves a job's artifacts between the artifact store and where the job runs. */
export interface ArtifactTransfer {
  /** Whether the job receives artifacts (then placed under $CHAINR_ARTIFACTS). */
  readonly hasInputs: boolean;
  /** The paths of the artifacts the job declares, relative to its working directory. */
  readonly paths: readonly string[];
  /** Places the job's inputs under `dir`, each at `<dir>/<from>/<name>`. */
  placeInputs(dir: string): Promise<void>;
  /**
   * Stores the artifacts the job declares, found under its working directory; rejects with the
   * reason (missing, too large) when one cannot be.
   */
  storeOutputs(workDir: string): Promise<ArtifactRecord[]>;
  /*
   * For an executor whose jobs move their artifacts themselves, where they run (Kubernetes pods
   * reach the store): what to move, within which limits, and the count of what they stored.
   */
  readonly attempt: AttemptKey;
  readonly produces: readonly ArtifactSpec[];
  readonly receives: readonly PlacedInput[];
  readonly limits: ArtifactLimits;
  /** Bytes the run's artifacts take so far. */
  usedByRun(): Promise<number>;
  /** Counts artifacts stored elsewhere into the run's; rejects past the per-run limit. */
  admit(records: readonly ArtifactRecord[]): Promise<void>;
}

export interface ExecutionResult {
  status: 'SUCCESSFUL' | 'FAILED';
  /** The process's exit code, or null when it did not exit on its own. */
  exitCode: number | null;
  /** Human-readable cause of a failure; empty on success. */
  reason: string;
  /** `key=value` pairs the job wrote to its outputs file ($CHAINR_OUTPUTS), at most 4 KiB. */
  outputs?: Record<string, string>;
  /** The artifacts stored after a successful end (ExecutionIO.artifacts). */
  artifacts?: ArtifactRecord[];
}

export interface Executor {
  readonly name: string;
  /** Whether it gives jobs their run's workspace (ExecutionRequest.workspace). */
  readonly providesWorkspace?: boolean;
  /**
   * Whether it has secrets read where the job runs (ExecutionRequest.secrets), never by the
   * worker; otherwise the worker reads them from its own secrets and passes them in `env`.
   */
  readonly secretsByReference?: boolean;
  /** Whether it stores and places jobs' artifacts (ExecutionIO.artifacts). */
  readonly providesArtifacts?: boolean;
  run(request: ExecutionRequest, io: ExecutionIO): Promise<ExecutionResult>;
  /** Releases what the executor keeps open between attempts (the worker is stopping). */
  close?(): Promise<void>;
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

/**
 * The program a request runs and its arguments: `sh` with `-c <run>`, or its argv as it is (no
 * shell, for images without one).
 */
export function programOf(command: JobCommand): { file: string; args: string[] } {
  if (command.argv === undefined) return { file: 'sh', args: ['-c', command.run] };
  const [file = '', ...args] = command.argv;
  return { file, args };
}
