/** batch/v1 Jobs: create, get, list, watch, delete — with the API server's checks and answers. */
import { randomUUID } from 'node:crypto';
import { defaultJob } from './defaults.ts';
import type { JobController, Propagation } from './job-controller.ts';
import type { Ctx } from './http-util.ts';
import { isTrue, readBody, sendJson, sendStatus } from './http-util.ts';
import { fieldSelector, labelSelector, SelectorError } from './selectors.ts';
import { statuses } from './status.ts';
import type { SimJob, Store } from './store.ts';
import { jobCauses, pruneUnknown } from './validate.ts';
import { serveWatch, type OpenWatch } from './watch-stream.ts';

export interface ApiState {
  store: Store;
  controller: JobController;
  watches: Set<OpenWatch>;
  bookmarkMs: number;
  /** How long after a change its watch event is sent (the watch cache's lag). */
  watchLagMs: number;
  /** Successful Job creations, by name. */
  created: Map<string, number>;
}

const JOBS = { group: 'batch', resource: 'jobs' };
const KIND = { kind: 'Job', apiVersion: 'batch/v1' } as const;

function selectorOf(ctx: Ctx, fields: readonly string[]) {
  const labels = labelSelector(ctx.url.searchParams.get('labelSelector'));
  const fieldMatch = fieldSelector(ctx.url.searchParams.get('fieldSelector'), fields);
  return { labels, fieldMatch };
}

export async function createJob(ctx: Ctx, api: ApiState, namespace: string): Promise<void> {
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (type !== 'application/json') return sendStatus(ctx, statuses.unsupportedMediaType(type));
  let body: SimJob;
  try {
    body = JSON.parse(await readBody(ctx.req)) as SimJob;
  } catch (err) {
    return sendStatus(
      ctx,
      statuses.badRequest(`couldn't get version/kind; json parse error: ${String(err)}`),
    );
  }
  if (body.apiVersion !== 'batch/v1' || body.kind !== 'Job')
    return sendStatus(
      ctx,
      statuses.badRequest(
        `the API version in the data (${body.apiVersion}) does not match the expected API version (batch/v1)`,
      ),
    );
  if (body.metadata?.namespace && body.metadata.namespace !== namespace)
    return sendStatus(
      ctx,
      statuses.badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      ),
    );
  const { value: known, unknown } = pruneUnknown(body, 'V1Job');
  const fieldValidation = ctx.url.searchParams.get('fieldValidation') ?? 'Warn';
  if (unknown.length > 0 && fieldValidation === 'Strict')
    return sendStatus(
      ctx,
      statuses.badRequest(
        `strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
      ),
    );
  const causes = jobCauses(body);
  const name = body.metadata?.name ?? '';
  if (causes.length > 0) return sendStatus(ctx, statuses.invalid('Job', 'batch', name, causes));
  if (api.store.get('jobs', namespace, name))
    return sendStatus(ctx, statuses.alreadyExists(JOBS, name));
  // Unknown fields are dropped, as the decoder does; status is not writable through create.
  const { metadata, spec } = known as SimJob;
  const uid = randomUUID();
  const job: SimJob = {
    ...KIND,
    metadata: { ...metadata, namespace, uid, resourceVersion: '', creationTimestamp: '' },
    spec,
  };
  const stored = api.store.create('jobs', defaultJob(job, uid));
  api.created.set(name, (api.created.get(name) ?? 0) + 1);
  const warnings = unknown.map((u) => `299 - "unknown field \\"${u}\\""`);
  sendJson(ctx, 201, stored, warnings.length > 0 ? { warning: warnings.join(', ') } : {});
}

export function getJob(ctx: Ctx, api: ApiState, namespace: string, name: string): void {
  const job = api.store.get('jobs', namespace, name);
  if (!job) return sendStatus(ctx, statuses.notFound(JOBS, name));
  sendJson(ctx, 200, job);
}

export function listJobs(ctx: Ctx, api: ApiState, namespace: string | undefined): void {
  let sel;
  try {
    sel = selectorOf(ctx, ['metadata.name', 'metadata.namespace', 'status.successful']);
  } catch (err) {
    if (err instanceof SelectorError) return sendStatus(ctx, statuses.badRequest(err.message));
    throw err;
  }
  const matches = (o: {
    metadata: { namespace: string; name: string; labels?: Record<string, string> };
  }) =>
    (namespace === undefined || o.metadata.namespace === namespace) &&
    sel.labels(o.metadata.labels ?? {}) &&
    sel.fieldMatch({
      'metadata.name': o.metadata.name,
      'metadata.namespace': o.metadata.namespace,
    });
  if (isTrue(ctx.url.searchParams.get('watch')))
    return serveWatch(
      ctx,
      api.store,
      'jobs',
      KIND,
      matches,
      api.watches,
      api.bookmarkMs,
      api.watchLagMs,
    );
  const items = api.store
    .list('jobs', matches)
    .map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  sendJson(ctx, 200, {
    kind: 'JobList',
    apiVersion: 'batch/v1',
    metadata: { resourceVersion: api.store.currentRv() },
    items,
  });
}

export async function deleteJob(
  ctx: Ctx,
  api: ApiState,
  namespace: string,
  name: string,
): Promise<void> {
  const raw = await readBody(ctx.req);
  let options: { propagationPolicy?: string } = {};
  try {
    options = raw.trim() ? (JSON.parse(raw) as typeof options) : {};
  } catch {
    return sendStatus(ctx, statuses.badRequest('invalid DeleteOptions'));
  }
  // batch/v1 Jobs default to orphaning their pods, a well-known trap: clients must ask.
  const propagation = (ctx.url.searchParams.get('propagationPolicy') ??
    options.propagationPolicy ??
    'Orphan') as Propagation;
  if (!['Background', 'Foreground', 'Orphan'].includes(propagation))
    return sendStatus(
      ctx,
      statuses.badRequest(`propagationPolicy: Unsupported value: "${propagation}"`),
    );
  const job = api.store.get('jobs', namespace, name);
  if (!job) return sendStatus(ctx, statuses.notFound(JOBS, name));
  const result = api.controller.deleteJob(namespace, name, propagation);
  if (propagation === 'Foreground' && result) return sendJson(ctx, 202, result);
  sendJson(ctx, 200, statuses.success(JOBS, name, job.metadata.uid));
}
