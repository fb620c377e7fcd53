/** core/v1 Pods: get, list, watch, delete, and `pods/{name}/log` with follow and timestamps. */
import type { ApiState } from './api-jobs.ts';
import type { Ctx } from './http-util.ts';
import { isTrue, sendJson, sendStatus } from './http-util.ts';
import type { Kubelet } from './kubelet.ts';
import { serveLog } from './pod-log.ts';
import { fieldSelector, labelSelector, SelectorError } from './selectors.ts';
import { statuses } from './status.ts';
import type { SimPod } from './store.ts';
import { serveWatch } from './watch-stream.ts';

const PODS = { group: '', resource: 'pods' };
const KIND = { kind: 'Pod', apiVersion: 'v1' } as const;

export function listPods(ctx: Ctx, api: ApiState, namespace: string): void {
  let labels, fields;
  try {
    labels = labelSelector(ctx.url.searchParams.get('labelSelector'));
    fields = fieldSelector(ctx.url.searchParams.get('fieldSelector'), [
      'metadata.name',
      'metadata.namespace',
      'spec.nodeName',
      'status.phase',
    ]);
  } catch (err) {
    if (err instanceof SelectorError) return sendStatus(ctx, statuses.badRequest(err.message));
    throw err;
  }
  const matches = (o: SimPod) =>
    o.metadata.namespace === namespace &&
    labels(o.metadata.labels ?? {}) &&
    fields({
      'metadata.name': o.metadata.name,
      'metadata.namespace': o.metadata.namespace,
      'spec.nodeName': o.spec?.nodeName ?? '',
      'status.phase': o.status?.phase ?? '',
    });
  if (isTrue(ctx.url.searchParams.get('watch')))
    return serveWatch(
      ctx,
      api.store,
      'pods',
      KIND,
      (o) => matches(o as SimPod),
      api.watches,
      api.bookmarkMs,
      api.watchLagMs,
    );
  const items = api.store
    .list('pods', matches)
    .map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  sendJson(ctx, 200, {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: { resourceVersion: api.store.currentRv() },
    items,
  });
}

export function getPod(ctx: Ctx, api: ApiState, namespace: string, name: string): void {
  const pod = api.store.get('pods', namespace, name);
  if (!pod) return sendStatus(ctx, statuses.notFound(PODS, name));
  sendJson(ctx, 200, pod);
}

export function deletePod(
  ctx: Ctx,
  api: ApiState,
  kubelet: Kubelet,
  namespace: string,
  name: string,
): void {
  const pod = api.store.get('pods', namespace, name);
  if (!pod) return sendStatus(ctx, statuses.notFound(PODS, name));
  const grace = ctx.url.searchParams.get('gracePeriodSeconds');
  kubelet.terminate(namespace, name, grace === null ? undefined : Number(grace));
  sendJson(ctx, 200, api.store.get('pods', namespace, name) ?? pod);
}

export function podLog(
  ctx: Ctx,
  api: ApiState,
  kubelet: Kubelet,
  namespace: string,
  name: string,
): void {
  const params = ctx.url.searchParams;
  const pod = api.store.get('pods', namespace, name);
  if (!pod) return sendStatus(ctx, statuses.notFound(PODS, name));
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const asked = params.get('container');
  // As the API server: a pod of several containers needs one named.
  if (!asked && names.length > 1)
    return sendStatus(
      ctx,
      statuses.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`,
      ),
    );
  const container = asked ?? names[0] ?? '';
  if (!names.includes(container))
    return sendStatus(ctx, statuses.badRequest(`container ${asked} is not valid for pod ${name}`));
  const state = pod.status?.containerStatuses?.find((s) => s.name === container)?.state;
  const log = kubelet.logOf(namespace, name, container);
  if (!log || !(state?.running || state?.terminated)) {
    const reason = state?.waiting?.reason ?? 'ContainerCreating';
    const why = reason.includes('ImagePull') ? 'trying and failing to pull image' : reason;
    return sendStatus(
      ctx,
      statuses.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`),
    );
  }
  ctx.answered = 200;
  serveLog(ctx.res, log, params);
}
