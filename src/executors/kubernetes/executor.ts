/**
 * The kubernetes executor: one batch/v1 Job per attempt.
 *
 * The Job's name comes from the attempt's identity (naming.ts), so creating it is idempotent: a
 * worker that takes over an attempt whose Job exists (409 AlreadyExists, e.g. after its previous
 * worker died) follows that Job instead of starting a second one, reading its pod's log on from
 * where the log recorded for the attempt ends. Cancel deletes the Job and its pods; a worker
 * shutting down leaves the Job running for the worker that takes the attempt over.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { S3StoreConfig } from '../../artifacts/s3-store.ts';
import type {
  ArtifactTransfer,
  ExecutionIO,
  ExecutionRequest,
  ExecutionResult,
  Executor,
} from '../executor.ts';
import { backoffDelay, sleep } from './backoff.ts';
import type { KubernetesClient } from './client.ts';
import { classifyApiError } from './errors.ts';
import { followAttempt, type Timing, type WarnLogger } from './follow.ts';
import { JobInformers } from './informer.ts';
import { parsePosition, type PodLogPosition } from './log-cursor.ts';
import { buildJobManifest, type PodArtifacts } from './manifest.ts';
import { LABELS } from './naming.ts';
import {
  buildClaimManifest,
  DEFAULT_WORKSPACE_VOLUME,
  type WorkspaceVolumeDefaults,
} from './workspace-claim.ts';

import { WORKER_SHUTDOWN_REASON } from '../executor.ts';

export { WORKER_SHUTDOWN_REASON };

export interface KubernetesExecutorOptions {
  client: KubernetesClient;
  /** Seconds a finished Job is kept before Kubernetes deletes it. */
  ttlSecondsAfterFinished?: number;
  /** Value of the chainr.io/instance label. */
  instance?: string;
  /** chainr's image: its chainr-exec wraps each job (manifest.ts); without it, `sh` does. */
  helperImage?: string;
  timing?: Partial<Timing>;
  /** Settings of the runs' workspace claims that pipelines do not give (default: 1Gi, RWO). */
  workspaceDefaults?: WorkspaceVolumeDefaults;
  /**
   * Where jobs' pods store and read artifacts themselves (pod-artifacts.ts): the deployment's
   * S3-compatible store, and the Secret with its credentials. Without a store, a job that has
   * artifacts fails, saying why: pods cannot reach a worker's filesystem store.
   */
  artifacts?: { s3?: S3StoreConfig; credentialsSecret?: string };
  /** How many times a delete is retried while the API server is unreachable. */
  deleteRetries?: number;
  logger?: WarnLogger;
}

const DEFAULT_TIMING: Timing = {
  imagePullGraceMs: 120_000,
  unschedulableGraceMs: 300_000,
  backoff: { initialMs: 250, maxMs: 10_000 },
  watchTimeoutSeconds: 300,
  logDrainMs: 5_000,
  resyncMs: 30_000,
  informerIdleMs: 30_000,
  cacheMissCheckMs: 5_000,
  deadlineMarginMs: 10_000,
};

const failed = (reason: string): ExecutionResult => ({ status: 'FAILED', exitCode: null, reason });

/** An abort reason as words: the signal's reason is `unknown`. */
const reasonText = (reason: unknown): string =>
  typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : 'canceled';

type Created = { attached: boolean } | { result: ExecutionResult };

/** The result, with the artifacts its pod stored counted into the run's (within its limit). */
async function admitted(
  result: ExecutionResult,
  transfer: ArtifactTransfer,
): Promise<ExecutionResult> {
  if (!result.artifacts) return result;
  try {
    await transfer.admit(result.artifacts);
    return result;
  } catch (err) {
    return { status: 'FAILED', exitCode: result.exitCode, reason: (err as Error).message };
  }
}

export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes';
  readonly secretsByReference = true;
  readonly providesWorkspace = true;
  readonly providesArtifacts = true;
  private readonly timing: Timing;
  /** One watch of Jobs and one of pods for every attempt this executor follows. */
  readonly informers: JobInformers;

  constructor(private readonly options: KubernetesExecutorOptions) {
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.informers = new JobInformers(options.client, this.timing, options.instance, (message) =>
      options.logger?.warn({ message }, 'Kubernetes API call failed: retrying'),
    );
  }

  /** Closes the watches (the worker is stopping; attempts still followed end as aborted). */
  close(): Promise<void> {
    return this.informers.close();
  }

  async run(request: ExecutionRequest, io: ExecutionIO): Promise<ExecutionResult> {
    if (io.signal.aborted) return failed('canceled before start');
    const { client } = this.options;
    const { instance, helperImage } = this.options;
    const artifacts = io.artifacts && (await this.podArtifacts(request, io.artifacts));
    if (typeof artifacts === 'string') return failed(artifacts);
    const manifest = buildJobManifest(
      request,
      {
        namespace: client.namespace,
        ttlSecondsAfterFinished: this.options.ttlSecondsAfterFinished ?? 3600,
        ...(instance !== undefined && { instance }),
        ...(helperImage !== undefined && { helperImage }),
      },
      artifacts,
    );
    const name = manifest.metadata?.name ?? '';
    const claimFailure = await this.ensureWorkspaceClaim(request, io.signal);
    if (claimFailure) return claimFailure;
    const created = await this.createOrAttach(manifest, request, io.signal);
    if ('result' in created) {
      // Canceled while the API server was unreachable: the create may have been applied.
      if (io.signal.aborted && !this.isShutdown(io.signal)) await this.deleteJob(name);
      return created.result;
    }
    let resume: PodLogPosition | undefined;
    if (created.attached) {
      io.onLog(
        `chainr: re-attached to the running Kubernetes Job ${client.namespace}/${name}`,
        'stderr',
      );
      resume = await this.recordedPosition(io);
    }
    const out = await followAttempt({
      client,
      informers: this.informers,
      name,
      request,
      io,
      timing: this.timing,
      ...(resume && { resume }),
      ...(this.options.logger && { logger: this.options.logger }),
    });
    if (out.kind === 'result') {
      if (out.abandon) await this.deleteJob(name);
      return io.artifacts ? admitted(out.result, io.artifacts) : out.result;
    }
    if (!this.isShutdown(io.signal)) await this.deleteJob(name);
    return failed(reasonText(out.reason));
  }

  /**
   * Where the log recorded for the attempt ends, so that its pod's log is read on from there: the
   * previous worker's lines are not recorded twice. The position names its pod, so one recorded
   * for an earlier attempt of the job (another Job, another pod) is not applied to this one.
   */
  private async recordedPosition(io: ExecutionIO): Promise<PodLogPosition | undefined> {
    try {
      const recorded = await io.recordedPosition?.();
      return recorded === undefined ? undefined : parsePosition(recorded);
    } catch (err) {
      io.onLog(
        `chainr: could not read where the recorded log ends (${String(err)}): reading it from the start`,
        'stderr',
      );
      return undefined;
    }
  }

  /**
   * What the job's pod moves of its artifacts (its transfer containers reach the store), or why
   * it cannot.
   */
  private async podArtifacts(
    request: ExecutionRequest,
    transfer: ArtifactTransfer,
  ): Promise<PodArtifacts | string> {
    const s3 = this.options.artifacts?.s3;
    if (!s3)
      return `job "${request.job}" stores or receives artifacts, but its pod cannot reach this worker's filesystem artifact store: the kubernetes executor needs an S3-compatible store (CHAINR_ARTIFACTS_S3_BUCKET, docs/KUBERNETES.md)`;
    if (this.options.helperImage === undefined)
      return `job "${request.job}" stores or receives artifacts, which chainr's image moves in its pod: set CHAINR_KUBERNETES_HELPER_IMAGE (docs/KUBERNETES.md)`;
    const used = transfer.produces.length > 0 ? await transfer.usedByRun() : 0;
    const secret = this.options.artifacts?.credentialsSecret;
    return {
      spec: {
        s3,
        attempt: transfer.attempt,
        limits: transfer.limits,
        used,
        produces: [...transfer.produces],
        receives: [...transfer.receives],
      },
      ...(secret !== undefined && { credentialsSecret: secret }),
    };
  }

  private isShutdown(signal: AbortSignal): boolean {
    return signal.reason === WORKER_SHUTDOWN_REASON;
  }

  /**
   * Creates the run's workspace claim before its first Job that needs one (it exists already for
   * the others: 409); retries while unreachable. An existing claim named by the pipeline is left
   * as it is. Undefined when the job may go on.
   */
  private async ensureWorkspaceClaim(
    request: ExecutionRequest,
    signal: AbortSignal,
  ): Promise<ExecutionResult | undefined> {
    const workspace = request.workspace;
    if (!workspace || workspace.volume?.claimName !== undefined) return undefined;
    const { core, namespace } = this.options.client;
    const { instance } = this.options;
    const defaults = this.options.workspaceDefaults ?? DEFAULT_WORKSPACE_VOLUME;
    const body = buildClaimManifest(request.uid, workspace.volume, defaults, {
      namespace,
      ...(instance !== undefined && { instance }),
    });
    for (let retry = 0; ; retry += 1) {
      if (signal.aborted) return failed(reasonText(signal.reason));
      try {
        await core.createNamespacedPersistentVolumeClaim({
          namespace,
          body,
          fieldValidation: 'Strict',
        });
        return undefined;
      } catch (err) {
        const failure = classifyApiError(err);
        if (failure.kind === 'exists') return undefined;
        if (failure.kind !== 'retry')
          return failed(
            `could not create the run's workspace claim ${namespace}/${body.metadata?.name ?? ''}: ${failure.message}`,
          );
      }
      await sleep(backoffDelay(this.timing.backoff, retry), signal);
    }
  }

  /** Creates the Job, or finds this attempt's Job already there; retries while unreachable. */
  private async createOrAttach(
    job: V1Job,
    request: ExecutionRequest,
    signal: AbortSignal,
  ): Promise<Created> {
    const { batch, namespace } = this.options.client;
    const name = job.metadata?.name ?? '';
    for (let retry = 0; ; retry += 1) {
      if (signal.aborted) return { result: failed(reasonText(signal.reason)) };
      try {
        await batch.createNamespacedJob({ namespace, body: job, fieldValidation: 'Strict' });
        return { attached: false };
      } catch (err) {
        const failure = classifyApiError(err);
        if (failure.kind === 'exists') {
          const owner = await this.ownerCheck(name, request, signal);
          if (owner !== 'retry') return owner;
        } else if (failure.kind !== 'retry')
          return {
            result: failed(
              `could not create the Kubernetes Job ${namespace}/${name}: ${failure.message}`,
            ),
          };
        else
          this.options.logger?.warn(
            { job: name, message: failure.message },
            'creating the Kubernetes Job failed: retrying',
          );
      }
      await sleep(backoffDelay(this.timing.backoff, retry), signal);
    }
  }

  /** The existing Job must be this attempt's: the name is a hash, so this guards a collision. */
  private async ownerCheck(
    name: string,
    request: ExecutionRequest,
    signal: AbortSignal,
  ): Promise<Created | 'retry'> {
    const { batch, namespace } = this.options.client;
    if (signal.aborted) return 'retry';
    try {
      const existing = await batch.readNamespacedJob({ name, namespace });
      const labels = existing.metadata?.labels ?? {};
      if (
        labels[LABELS.run] === request.uid &&
        labels[LABELS.job] === request.job &&
        labels[LABELS.attempt] === String(request.attempt)
      )
        return { attached: true };
      return {
        result: failed(
          `the Kubernetes Job ${namespace}/${name} exists but belongs to another attempt (labels ${JSON.stringify(labels)})`,
        ),
      };
    } catch (err) {
      const failure = classifyApiError(err);
      // Deleted between the 409 and this read, or unreachable: create again.
      if (failure.kind === 'retry' || failure.kind === 'not-found') return 'retry';
      return {
        result: failed(
          `could not read the existing Kubernetes Job ${namespace}/${name}: ${failure.message}`,
        ),
      };
    }
  }

  /** Deletes the Job and (through the garbage collector) its pods; gone already is fine. */
  private async deleteJob(name: string): Promise<void> {
    const { batch, namespace } = this.options.client;
    const retries = this.options.deleteRetries ?? 5;
    for (let retry = 0; retry <= retries; retry += 1) {
      try {
        await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
        return;
      } catch (err) {
        const failure = classifyApiError(err);
        if (failure.kind === 'not-found') return;
        if (failure.kind !== 'retry' || retry === retries) {
          // Left for garbage collection (collectOrphans) once the run has ended.
          this.options.logger?.warn(
            { job: name, message: failure.message },
            'could not delete the Kubernetes Job',
          );
          return;
        }
      }
      await sleep(backoffDelay(this.timing.backoff, retry));
    }
  }
}
