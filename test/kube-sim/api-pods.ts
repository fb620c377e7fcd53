/** core/v1 Pods: get, list, watch, delete, and `pods/{name}/log` with follow and timestamps. */
import type { ApiState } from './api-jobs.ts';
import type { Ctx } from './http-util.ts';
import { isTrue, sendJson, sendStatus } from './http-util.ts';
import type { Kubelet } from './kubelet.ts';
import { formatLine, parseRfc3339, type LogLine } from './pod-log.ts';
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

/** Which lines a log request asks for (sinceTime / sinceSeconds, then tailLines). */
function selectLines(lines: LogLine[], params: URLSearchParams): LogLine[] {
  const sinceTime = params.get('sinceTime');
  const sinceSeconds = params.get('sinceSeconds');
  let since: bigint | undefined;
  // The API server hands sinceTime to the kubelet re-encoded as a metav1.Time, to the second: a
  // fraction is dropped, and the whole second's lines are sent.
  const sinceNs = sinceTime ? parseRfc3339(sinceTime) : undefined;
  if (sinceNs !== undefined) since = sinceNs - (sinceNs % 1_000_000_000n);
  else if (sinceSeconds) since = BigInt(Date.now() - Number(sinceSeconds) * 1000) * 1_000_000n;
  let selected = since === undefined ? lines : lines.filter((l) => l.ns >= since);
  const tail = params.get('tailLines');
  if (tail !== null) selected = selected.slice(Math.max(0, selected.length - Number(tail)));
  return selected;
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
  const container = pod.spec?.containers[0]?.name ?? '';
  const asked = params.get('container');
  if (asked && asked !== container)
    return sendStatus(ctx, statuses.badRequest(`container ${asked} is not valid for pod ${name}`));
  const state = pod.status?.containerStatuses?.[0]?.state;
  const log = kubelet.logOf(namespace, name);
  if (!log || !(state?.running || state?.terminated)) {
    const reason = state?.waiting?.reason ?? 'ContainerCreating';
    const why = reason.includes('ImagePull') ? 'trying and failing to pull image' : reason;
    return sendStatus(
      ctx,
      statuses.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`),
    );
  }
  const timestamps = isTrue(params.get('timestamps'));
  let budget = params.get('limitBytes') === null ? Infinity : Number(params.get('limitBytes'));
  const res = ctx.res;
  ctx.answered = 200;
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.flushHeaders();
  const write = (line: LogLine): boolean => {
    const text = Buffer.from(formatLine(line, timestamps)).subarray(0, budget);
    budget -= text.length;
    res.write(text);
    return budget > 0;
  };
  for (const line of selectLines(log.lines, params)) if (!write(line)) return void res.end();
  if (!isTrue(params.get('follow')) || log.ended) return void res.end();
  const stop = log.follow((line) => {
    if (line === 'end' || !write(line)) {
      stop();
      res.end();
    }
  });
  res.on('close', stop);
}
