/**
 * core/v1 PersistentVolumeClaims: create, get, list, delete, and what the control plane does with
 * them, as the API server, its admission plugins and the controllers do:
 * - DefaultStorageClass: a claim that names no class gets the default one (`standard`);
 * - StorageObjectInUseProtection: every claim gets the `kubernetes.io/pvc-protection` finalizer,
 *   so deleting a claim that a pod not yet ended uses only marks it (deletionTimestamp) and the
 *   claim goes once no such pod is left;
 * - the PV controller provisions a volume for a claim of a known class (`standard`, immediate
 *   binding) and binds it (spec.volumeName, status Bound with capacity and access modes); a claim
 *   of an unknown class stays Pending.
 * The scheduler's side (a pod waits while its claim is missing, unbound or being deleted) is in
 * the kubelet (kubelet.ts: claimProblem), and a bound volume is a directory shared by its pods.
 */
import type { ApiState } from './api-jobs.ts';
import type { Ctx } from './http-util.ts';
import { isTrue, readObject, sendJson, sendStatus } from './http-util.ts';
import { labelSelector, SelectorError } from './selectors.ts';
import { statuses } from './status.ts';
import { apiTime, newMetadata, type SimClaim, type SimPod, type Store } from './store.ts';
import { claimCauses, pruneUnknown } from './validate.ts';
import { serveWatch } from './watch-stream.ts';

const CLAIMS = { group: '', resource: 'persistentvolumeclaims' };
const KIND = { kind: 'PersistentVolumeClaim', apiVersion: 'v1' } as const;
export const DEFAULT_STORAGE_CLASS = 'standard';
const PROTECTION = 'kubernetes.io/pvc-protection';

/** The claims a pod's volumes name. */
export const claimsOf = (pod: SimPod): string[] =>
  (pod.spec?.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
  );

const ended = (pod: SimPod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Binds new claims and lets protected ones go once no pod still running uses them. */
export class ClaimController {
  private readonly stop: () => void;

  constructor(private readonly store: Store) {
    this.stop = store.onChange((event) => {
      if (event.resource === 'persistentvolumeclaims' && event.type === 'ADDED')
        this.bind(event.object as SimClaim);
      if (event.resource === 'pods') this.release(event.object.metadata.namespace);
    });
  }

  close(): void {
    this.stop();
  }

  /** Whether a pod not yet ended uses the claim. */
  inUse(namespace: string, name: string): boolean {
    return this.store
      .list('pods', (p) => p.metadata.namespace === namespace && !ended(p))
      .some((p) => claimsOf(p).includes(name));
  }

  private bind(claim: SimClaim): void {
    if (claim.spec?.storageClassName !== DEFAULT_STORAGE_CLASS) return; // no provisioner
    const { namespace, name, uid } = claim.metadata;
    // After the create's answer, as the PV controller does it asynchronously.
    setImmediate(() =>
      this.store.update('persistentvolumeclaims', namespace, name, (c) => {
        if (!c.spec || c.metadata.uid !== uid) return;
        c.spec.volumeName = `pvc-${uid}`;
        c.status = {
          phase: 'Bound',
          accessModes: c.spec.accessModes ?? [],
          capacity: { storage: c.spec.resources?.requests?.storage ?? '0' },
        };
      }),
    );
  }

  private release(namespace: string): void {
    const terminating = this.store.list(
      'persistentvolumeclaims',
      (c) => c.metadata.namespace === namespace && c.metadata.deletionTimestamp !== undefined,
    );
    for (const claim of terminating)
      if (!this.inUse(namespace, claim.metadata.name))
        this.store.remove('persistentvolumeclaims', namespace, claim.metadata.name);
  }
}

export async function createClaim(ctx: Ctx, api: ApiState, namespace: string): Promise<void> {
  const body = await readObject<SimClaim>(ctx, 'v1', 'PersistentVolumeClaim');
  if (!body) return;
  const { value: known, unknown } = pruneUnknown(body, 'V1PersistentVolumeClaim');
  if (unknown.length > 0 && ctx.url.searchParams.get('fieldValidation') === 'Strict')
    return sendStatus(
      ctx,
      statuses.badRequest(
        `strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
      ),
    );
  const causes = claimCauses(body);
  const name = body.metadata?.name ?? '';
  if (causes.length > 0)
    return sendStatus(ctx, statuses.invalid('PersistentVolumeClaim', '', name, causes));
  if (api.store.get('persistentvolumeclaims', namespace, name))
    return sendStatus(ctx, statuses.alreadyExists(CLAIMS, name));
  const { metadata, spec } = known as SimClaim;
  const claim: SimClaim = {
    ...KIND,
    metadata: {
      ...newMetadata(metadata, namespace),
      finalizers: [...(metadata.finalizers ?? []), PROTECTION],
    },
    spec: { ...spec, storageClassName: spec?.storageClassName ?? DEFAULT_STORAGE_CLASS },
    status: { phase: 'Pending' },
  };
  sendJson(ctx, 201, api.store.create('persistentvolumeclaims', claim));
}

export function getClaim(ctx: Ctx, api: ApiState, namespace: string, name: string): void {
  const claim = api.store.get('persistentvolumeclaims', namespace, name);
  if (!claim) return sendStatus(ctx, statuses.notFound(CLAIMS, name));
  sendJson(ctx, 200, claim);
}

export function listClaims(ctx: Ctx, api: ApiState, namespace: string): void {
  let labels;
  try {
    labels = labelSelector(ctx.url.searchParams.get('labelSelector'));
  } catch (err) {
    if (err instanceof SelectorError) return sendStatus(ctx, statuses.badRequest(err.message));
    throw err;
  }
  const matches = (o: SimClaim) =>
    o.metadata.namespace === namespace && labels(o.metadata.labels ?? {});
  if (isTrue(ctx.url.searchParams.get('watch')))
    return serveWatch(
      ctx,
      api.store,
      'persistentvolumeclaims',
      KIND,
      (o) => matches(o as SimClaim),
      api.watches,
      api.bookmarkMs,
      api.watchLagMs,
    );
  const items = api.store
    .list('persistentvolumeclaims', matches)
    .map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  sendJson(ctx, 200, {
    kind: 'PersistentVolumeClaimList',
    apiVersion: 'v1',
    metadata: { resourceVersion: api.store.currentRv() },
    items,
  });
}

export function deleteClaim(
  ctx: Ctx,
  api: ApiState,
  claims: ClaimController,
  namespace: string,
  name: string,
): void {
  const claim = api.store.get('persistentvolumeclaims', namespace, name);
  if (!claim) return sendStatus(ctx, statuses.notFound(CLAIMS, name));
  if (claims.inUse(namespace, name)) {
    // The finalizer holds it: marked for deletion, gone once its last pod has ended.
    const marked = api.store.update('persistentvolumeclaims', namespace, name, (c) => {
      c.metadata.deletionTimestamp ??= apiTime();
      c.metadata.deletionGracePeriodSeconds = 0;
    });
    return sendJson(ctx, 200, marked ?? claim);
  }
  sendJson(ctx, 200, api.store.remove('persistentvolumeclaims', namespace, name) ?? claim);
}
