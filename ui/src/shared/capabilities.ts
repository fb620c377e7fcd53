/**
 * What the connected chainr API can do, read from its OpenAPI document, so that the UI offers
 * only what the server answers (and never probes endpoints that would answer 404).
 */

export interface Capabilities {
  /** GET /api/runs takes status, name and selector filters. */
  runFilters: { status: boolean; name: boolean; selector: boolean };
  runCounts: boolean;
  retry: boolean;
  resubmit: boolean;
  /** POST /api/runs takes `{pipeline, params}`. */
  submitParams: boolean;
  schedules: boolean;
  createSchedule: boolean;
  /** Pause and resume. */
  pauseSchedule: boolean;
  deleteSchedule: boolean;
  instances: boolean;
}

export const BASELINE: Capabilities = {
  runFilters: { status: false, name: false, selector: false },
  runCounts: false,
  retry: false,
  resubmit: false,
  submitParams: false,
  schedules: false,
  createSchedule: false,
  pauseSchedule: false,
  deleteSchedule: false,
  instances: false,
};

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

/**
 * The operation the server serves at path and method; one documented only to answer 405 (the
 * resource refuses the method) is not served.
 */
function operation(doc: Json, path: string, method: string): Json | undefined {
  const op = asObject(asObject(asObject(doc['paths'])?.[path])?.[method]);
  const statuses = Object.keys(asObject(op?.['responses']) ?? {});
  if (statuses.includes('405') && !statuses.some((s) => s.startsWith('2'))) return undefined;
  return op;
}

function queryParameters(op: Json | undefined): Set<string> {
  const names = new Set<string>();
  const parameters = op?.['parameters'];
  if (!Array.isArray(parameters)) return names;
  for (const p of parameters) {
    const parameter = asObject(p);
    if (parameter?.['in'] === 'query' && typeof parameter['name'] === 'string')
      names.add(parameter['name']);
  }
  return names;
}

/** Follows a local `$ref` (`#/components/schemas/X`) once. */
function deref(doc: Json, schema: Json | undefined): Json | undefined {
  const ref = schema?.['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) node = asObject(node)?.[part];
  return asObject(node);
}

/**
 * True when POST /api/runs takes `{pipeline, params}`: its JSON body schema (or one of its
 * alternatives) has both properties, or its summary says so.
 */
function bodyTakesParams(doc: Json, op: Json | undefined): boolean {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const words = `${text(op?.['summary'])} ${text(op?.['description'])}`;
  if (/"pipeline"/.test(words) && /"params"/.test(words)) return true;
  const content = asObject(asObject(op?.['requestBody'])?.['content']);
  const schema = deref(doc, asObject(asObject(content?.['application/json'])?.['schema']));
  const candidates = [schema, ...['oneOf', 'anyOf'].flatMap((k) => toArray(schema?.[k]))];
  return candidates.some((c) => {
    const s = deref(doc, asObject(c));
    const properties = asObject(s?.['properties']);
    return properties?.['params'] !== undefined && properties['pipeline'] !== undefined;
  });
}

function toArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function capabilitiesFromOpenApi(document: unknown): Capabilities {
  const doc = asObject(document);
  if (!doc || !asObject(doc['paths'])) return BASELINE;
  const listQuery = queryParameters(operation(doc, '/api/runs', 'get'));
  return {
    runFilters: {
      status: listQuery.has('status'),
      name: listQuery.has('name'),
      selector: listQuery.has('selector'),
    },
    runCounts: operation(doc, '/api/runs/counts', 'get') !== undefined,
    retry: operation(doc, '/api/runs/{uid}/retry', 'post') !== undefined,
    resubmit: operation(doc, '/api/runs/{uid}/resubmit', 'post') !== undefined,
    submitParams: bodyTakesParams(doc, operation(doc, '/api/runs', 'post')),
    schedules: operation(doc, '/api/schedules', 'get') !== undefined,
    createSchedule: operation(doc, '/api/schedules', 'post') !== undefined,
    pauseSchedule:
      operation(doc, '/api/schedules/{id}/pause', 'post') !== undefined &&
      operation(doc, '/api/schedules/{id}/resume', 'post') !== undefined,
    deleteSchedule: operation(doc, '/api/schedules/{id}', 'delete') !== undefined,
    instances: operation(doc, '/api/instances', 'get') !== undefined,
  };
}
