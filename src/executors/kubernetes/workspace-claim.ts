/**
 * A run's workspace on Kubernetes: one PersistentVolumeClaim per run, `chainr-ws-<run uid>`,
 * created by the first attempt that needs it (a second create answers 409: it is there already),
 * or an existing claim the pipeline names (never created nor deleted by chainr). Its pods mount
 * it at WORKSPACE_MOUNT. The claim is labelled with its run, so that recycle deletes it once the
 * run no longer exists; the API server's pvc-protection finalizer keeps it until the last pod
 * using it has ended, whatever the order.
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { WorkspaceAccessMode, WorkspaceVolume } from '../../core/types.ts';
import { LABELS, labelValue, MANAGED_BY } from './naming.ts';

/** The deployment's settings of claims the pipeline does not set (CHAINR_KUBERNETES_WORKSPACE_*). */
export interface WorkspaceVolumeDefaults {
  size: string;
  /** Unset: the cluster's default storage class. */
  storageClassName?: string;
  accessModes: WorkspaceAccessMode[];
}

export const DEFAULT_WORKSPACE_VOLUME: WorkspaceVolumeDefaults = {
  size: '1Gi',
  accessModes: ['ReadWriteOnce'],
};

export const WORKSPACE_MOUNT = '/workspace';
export const WORKSPACE_VOLUME = 'workspace';
const PREFIX = 'chainr-ws-';

/** The claim made for a run (a run uid is at most 128 characters: within 253). */
export const runClaimName = (uid: string) => `${PREFIX}${uid.toLowerCase()}`;

/** The claim a job of the run mounts: the pipeline's existing one, else the run's own. */
export function claimNameOf(uid: string, volume: WorkspaceVolume | undefined): string {
  return volume?.claimName ?? runClaimName(uid);
}

export function buildClaimManifest(
  uid: string,
  volume: WorkspaceVolume | undefined,
  defaults: WorkspaceVolumeDefaults,
  options: { namespace: string; instance?: string },
): V1PersistentVolumeClaim {
  const storageClassName = volume?.storageClassName ?? defaults.storageClassName;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: runClaimName(uid),
      namespace: options.namespace,
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.run]: labelValue(uid),
        ...(options.instance !== undefined && { [LABELS.instance]: labelValue(options.instance) }),
      },
    },
    spec: {
      accessModes: volume?.accessModes ?? defaults.accessModes,
      resources: { requests: { storage: volume?.size ?? defaults.size } },
      ...(storageClassName !== undefined && { storageClassName }),
    },
  };
}
