/**
 * The batch/v1 Job of one attempt. Pure.
 *
 * chainr owns retries, so the Job runs its pod once (`backoffLimit: 0`, `restartPolicy: Never`).
 * The job's timeout becomes `activeDeadlineSeconds`, so Kubernetes enforces it even while no worker
 * watches. `ttlSecondsAfterFinished` removes finished Jobs that no one collected. Job pods get no
 * service account token and no service-link variables unless the pipeline names an account: the
 * job's environment is its own, as with the local executor.
 *
 * Outputs: the container runs the user's command under a small POSIX sh wrapper that gives it
 * $CHAINR_OUTPUTS (a file on an emptyDir volume, so it works with read-only root filesystems) and,
 * when it ends, copies that file into the termination message (which the kubelet caps at 4 KiB),
 * from where the result is read. The wrapper forwards SIGTERM to the command, so that deleting the
 * Job stops it promptly.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { ExecutionRequest } from '../executor.ts';
import { jobEnvironment } from '../executor.ts';
import { attemptLabels, identityOf, kubernetesJobName } from './naming.ts';

export const CONTAINER_NAME = 'job';
export const OUTPUTS_DIR = '/chainr';
export const OUTPUTS_FILE = `${OUTPUTS_DIR}/outputs`;
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const MAX_OUTPUTS_BYTES = 4096;
/** Written instead of the outputs when they exceed the limit (never valid `key=value` text). */
export const OUTPUTS_TOO_LARGE = '!outputs-too-large ';
export const IDENTITY_ANNOTATION = 'chainr.io/identity';

/** $1: the user's command; $2: the termination message path. POSIX sh (busybox, dash, bash). */
export const WRAPPER = [
  ': > "$CHAINR_OUTPUTS"',
  // A signal that arrives before the command's pid is known is noted, and passed on once it is.
  "child=''; term=''",
  `trap 'term=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT`,
  'sh -c "$1" &',
  'child=$!',
  '[ -n "$term" ] && kill -TERM "$child" 2>/dev/null',
  // 2>/dev/null: some shells report a child killed by a signal ("Terminated") on stderr.
  'wait "$child" 2>/dev/null; code=$?',
  // `wait` returns early when a trapped signal arrives: wait again for the real exit status.
  'while kill -0 "$child" 2>/dev/null; do wait "$child" 2>/dev/null; code=$?; done',
  'size=0; [ -f "$CHAINR_OUTPUTS" ] && size=$(($(wc -c < "$CHAINR_OUTPUTS")))',
  `if [ "$size" -gt ${MAX_OUTPUTS_BYTES} ]; then printf '${OUTPUTS_TOO_LARGE}%s' "$size" > "$2"`,
  'else cat "$CHAINR_OUTPUTS" > "$2" 2>/dev/null; fi',
  'exit "$code"',
].join('\n');

export interface ManifestOptions {
  namespace: string;
  ttlSecondsAfterFinished: number;
  /** Value of the chainr.io/instance label, when several deployments share a namespace. */
  instance?: string;
}

function resources(request: ExecutionRequest) {
  const pick = (q: { cpu?: string; memory?: string } | undefined) =>
    q && Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
  const requests = pick(request.resources?.requests);
  const limits = pick(request.resources?.limits);
  return {
    ...(requests && Object.keys(requests).length > 0 && { requests }),
    ...(limits && Object.keys(limits).length > 0 && { limits }),
  };
}

export function buildJobManifest(request: ExecutionRequest, options: ManifestOptions): V1Job {
  const labels = attemptLabels(request, options.instance);
  const k8s = request.kubernetes ?? {};
  const env = { ...jobEnvironment(request), CHAINR_OUTPUTS: OUTPUTS_FILE };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: kubernetesJobName(request),
      namespace: options.namespace,
      labels,
      annotations: { [IDENTITY_ANNOTATION]: identityOf(request) },
    },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
      ...(request.timeoutMs !== undefined && {
        activeDeadlineSeconds: Math.max(1, Math.ceil(request.timeoutMs / 1000)),
      }),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          enableServiceLinks: false,
          automountServiceAccountToken: k8s.serviceAccountName !== undefined,
          ...(k8s.serviceAccountName !== undefined && {
            serviceAccountName: k8s.serviceAccountName,
          }),
          ...(k8s.nodeSelector && { nodeSelector: k8s.nodeSelector }),
          ...(k8s.tolerations && { tolerations: k8s.tolerations }),
          ...(k8s.imagePullSecrets && {
            imagePullSecrets: k8s.imagePullSecrets.map((name) => ({ name })),
          }),
          volumes: [{ name: 'chainr', emptyDir: {} }],
          containers: [
            {
              name: CONTAINER_NAME,
              image: request.image,
              command: ['sh', '-c', WRAPPER, 'chainr-job', request.run, TERMINATION_MESSAGE_PATH],
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
              resources: resources(request),
              volumeMounts: [{ name: 'chainr', mountPath: OUTPUTS_DIR }],
              terminationMessagePath: TERMINATION_MESSAGE_PATH,
              terminationMessagePolicy: 'File',
            },
          ],
        },
      },
    },
  };
}
