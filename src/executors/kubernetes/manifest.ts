/**
 * The batch/v1 Job of one attempt. Pure.
 *
 * chainr owns retries, so the Job runs its pod once (`backoffLimit: 0`, `restartPolicy: Never`).
 * The job's timeout becomes `activeDeadlineSeconds`, so Kubernetes enforces it even while no worker
 * watches. The Job controller counts it from the Job's `startTime`, which is kept to the whole
 * second (a metav1.Time): up to a second early. One second more keeps the job from being cut
 * short of its timeout. `ttlSecondsAfterFinished` removes finished Jobs that no one collected. Job pods get no
 * service account token and no service-link variables unless the pipeline names an account: the
 * job's environment is its own, as with the local executor.
 *
 * Outputs: the container runs the job under a wrapper that gives it $CHAINR_OUTPUTS (a file on an
 * emptyDir volume, so it works with read-only root filesystems) and, when it ends, copies that file
 * into the termination message (which the kubelet caps at 4 KiB), from where the result is read.
 * The wrapper forwards SIGTERM to the job, so that deleting the Job stops it promptly.
 *
 * The wrapper is chainr-exec (chainr-exec.c), a static executable from the helper image (chainr's
 * own), which an init container copies into the emptyDir, as Argo's emissary executor does: the
 * job's image needs nothing, not even a shell, so distroless and scratch images run, and jobs may
 * give a program and its arguments (`argv`) instead of a shell command. Without a helper image,
 * the wrapper is a small POSIX sh script and the job's image must have `sh`.
 *
 * Artifacts (pod-artifacts.ts): a job that stores or receives some gets transfer containers of
 * the helper image: `chainr-inputs`, an init container placing its inputs in the emptyDir, and
 * `chainr-outputs`, a second container storing what the wrapper copied there once the job ended.
 * They read the store's credentials from the deployment's Secret (secretKeyRef), never from the
 * pipeline.
 *
 * The kubelet replaces `$(NAME)` in a container's command, arguments and variable values with the
 * variable's value, and `$$` with `$`: every `$` is doubled, so that the job gets exactly what it
 * was given, as with the other executors.
 */
import type { V1Job } from '@kubernetes/client-node';
import { ARTIFACTS_ENV } from '../../core/artifacts.ts';
import type { ExecutionRequest } from '../executor.ts';
import { jobEnvironment, programOf } from '../executor.ts';
import { attemptLabels, identityOf, kubernetesJobName } from './naming.ts';
import {
  CHAINR_IN_IMAGE,
  COLLECT_IN_POD,
  CREDENTIAL_KEYS,
  INPUTS_CONTAINER,
  INPUTS_IN_POD,
  MARKER_IN_POD,
  OUTPUTS_CONTAINER,
  type PodTransferSpec,
} from './pod-artifacts.ts';
import { claimNameOf, WORKSPACE_MOUNT, WORKSPACE_VOLUME } from './workspace-claim.ts';

export const CONTAINER_NAME = 'job';
export const OUTPUTS_DIR = '/chainr';
export const OUTPUTS_FILE = `${OUTPUTS_DIR}/outputs`;
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const MAX_OUTPUTS_BYTES = 4096;
/** Written instead of the outputs when they exceed the limit (never valid `key=value` text). */
export const OUTPUTS_TOO_LARGE = '!outputs-too-large ';
export const IDENTITY_ANNOTATION = 'chainr.io/identity';
/** Where chainr's image holds chainr-exec, and where the init container puts it in the pod. */
export const HELPER_IN_IMAGE = '/usr/local/bin/chainr-exec';
export const HELPER_IN_POD = `${OUTPUTS_DIR}/bin/chainr-exec`;
export const INIT_CONTAINER_NAME = 'chainr-init';

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
  /** The image holding chainr-exec (chainr's own); without it, the wrapper is `sh`. */
  helperImage?: string;
}

/** What the pod moves of the job's artifacts, and with which credentials. */
export interface PodArtifacts {
  spec: PodTransferSpec;
  /** The Secret holding the store's credentials (CREDENTIAL_KEYS); without it, the pod's identity. */
  credentialsSecret?: string;
}

/** Kept as written by the kubelet, which would expand `$(NAME)` and `$$`. */
export const literalForKubelet = (text: string): string => text.replaceAll('$', '$$$$');

/**
 * The container's command: the job under chainr-exec when there is a helper image, else under
 * the sh wrapper (a shell command only: a program and its arguments need chainr-exec).
 */
function wrappedCommand(
  request: ExecutionRequest,
  helperImage: string | undefined,
  produces: PodTransferSpec['produces'],
): string[] {
  if (helperImage !== undefined) {
    const { file, args } = programOf(request);
    if (produces.length === 0)
      return [HELPER_IN_POD, 'run', OUTPUTS_FILE, TERMINATION_MESSAGE_PATH, file, ...args];
    return [
      HELPER_IN_POD,
      'run-collect',
      OUTPUTS_FILE,
      TERMINATION_MESSAGE_PATH,
      COLLECT_IN_POD,
      MARKER_IN_POD,
      String(produces.length),
      ...produces.flatMap(({ name, path }) => [name, path]),
      file,
      ...args,
    ];
  }
  if (request.argv !== undefined)
    throw new Error(
      "a job given as command and args (no shell) needs chainr-exec in its pod: set CHAINR_KUBERNETES_HELPER_IMAGE to chainr's image",
    );
  return ['sh', '-c', WRAPPER, 'chainr-job', request.run, TERMINATION_MESSAGE_PATH];
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

/** A transfer container of the helper image: `chainr pod-artifacts <step> <paths...>`. */
function transferContainer(
  name: string,
  helperImage: string,
  step: string[],
  artifacts: PodArtifacts,
  volumeMounts: { name: string; mountPath: string }[],
) {
  const secret = artifacts.credentialsSecret;
  return {
    name,
    image: helperImage,
    command: [
      CHAINR_IN_IMAGE,
      'pod-artifacts',
      ...step,
      TERMINATION_MESSAGE_PATH,
      JSON.stringify(artifacts.spec),
    ].map(literalForKubelet),
    // Read by the kubelet from the deployment's Secret: neither the pipeline nor Redis holds them.
    ...(secret !== undefined && {
      env: CREDENTIAL_KEYS.map((key) => ({
        name: key,
        valueFrom: { secretKeyRef: { name: secret, key } },
      })),
    }),
    volumeMounts,
    terminationMessagePath: TERMINATION_MESSAGE_PATH,
    terminationMessagePolicy: 'File',
  };
}

export function buildJobManifest(
  request: ExecutionRequest,
  options: ManifestOptions,
  artifacts?: PodArtifacts,
): V1Job {
  const { helperImage } = options;
  if (artifacts && helperImage === undefined)
    throw new Error(
      "artifacts on Kubernetes are moved by chainr's image: set CHAINR_KUBERNETES_HELPER_IMAGE",
    );
  const produces = artifacts?.spec.produces ?? [];
  const hasInputs = (artifacts?.spec.receives.length ?? 0) > 0;
  const labels = attemptLabels(request, options.instance);
  const k8s = request.kubernetes ?? {};
  const workspace = request.workspace;
  const env = {
    ...jobEnvironment(request),
    CHAINR_OUTPUTS: OUTPUTS_FILE,
    ...(workspace && { CHAINR_WORKSPACE: WORKSPACE_MOUNT }),
    ...(hasInputs && { [ARTIFACTS_ENV]: INPUTS_IN_POD }),
  };
  const volumeMounts = [{ name: 'chainr', mountPath: OUTPUTS_DIR }];
  const volumes = [
    { name: 'chainr', emptyDir: {} },
    ...(workspace
      ? [
          {
            name: WORKSPACE_VOLUME,
            persistentVolumeClaim: { claimName: claimNameOf(request.uid, workspace.volume) },
          },
        ]
      : []),
  ];
  const jobMounts = [
    ...volumeMounts,
    ...(workspace
      ? [
          {
            name: WORKSPACE_VOLUME,
            mountPath: WORKSPACE_MOUNT,
            ...(workspace.readOnly && { readOnly: true }),
          },
        ]
      : []),
  ];
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
        activeDeadlineSeconds: Math.ceil(request.timeoutMs / 1000) + 1,
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
          volumes,
          ...(helperImage !== undefined && {
            initContainers: [
              {
                name: INIT_CONTAINER_NAME,
                image: helperImage,
                command: [HELPER_IN_IMAGE, 'install', HELPER_IN_POD],
                // The pod's requests are the larger of its init containers' and its containers'
                // sums: the job's own resources leave them as they are (and satisfy quotas).
                resources: resources(request),
                volumeMounts,
              },
              ...(artifacts && hasInputs
                ? [
                    transferContainer(
                      INPUTS_CONTAINER,
                      helperImage,
                      ['inputs', INPUTS_IN_POD],
                      artifacts,
                      volumeMounts,
                    ),
                  ]
                : []),
            ],
          }),
          containers: [
            {
              name: CONTAINER_NAME,
              image: request.image,
              command: wrappedCommand(request, helperImage, produces).map(literalForKubelet),
              env: [
                ...Object.entries(env).map(([name, value]) => ({
                  name,
                  value: literalForKubelet(value),
                })),
                // Read by the kubelet from the Secret when the pod starts: chainr never sees them.
                ...Object.entries(request.secrets ?? {}).map(([name, ref]) => ({
                  name,
                  valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } },
                })),
              ],
              resources: resources(request),
              volumeMounts: jobMounts,
              terminationMessagePath: TERMINATION_MESSAGE_PATH,
              terminationMessagePolicy: 'File',
            },
            ...(artifacts && helperImage !== undefined && produces.length > 0
              ? [
                  transferContainer(
                    OUTPUTS_CONTAINER,
                    helperImage,
                    ['outputs', COLLECT_IN_POD, MARKER_IN_POD],
                    artifacts,
                    volumeMounts,
                  ),
                ]
              : []),
          ],
        },
      },
    },
  };
}
