/**
 * What a failed Kubernetes API call means for the attempt. Pure.
 *
 * Network errors, 429 and 5xx are the API server being unreachable, restarting or overloaded:
 * retried with backoff, never failing the job. 409 AlreadyExists on create means the attempt's
 * Job exists already: re-attach. 410 on a watch means its resourceVersion is too old: relist.
 * 403 names the missing permission. Anything else is a mistake retrying will not fix.
 */

export type ApiFailure =
  | { kind: 'retry'; message: string }
  | { kind: 'exists'; message: string }
  | { kind: 'not-found'; message: string }
  /** 410 Gone: the resourceVersion asked for is too old (compacted): list again. */
  | { kind: 'expired'; message: string }
  | { kind: 'forbidden'; message: string }
  | { kind: 'fatal'; message: string };

interface StatusBody {
  message?: string;
  reason?: string;
}

function statusBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'object' && body !== null) return body;
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body) as StatusBody;
  } catch {
    return body.trim() ? { message: body.trim().slice(0, 500) } : undefined;
  }
}

/** The HTTP status of an error from client-node (ApiException `code`, Watch `statusCode`). */
function httpStatus(err: object): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const RBAC_HINT =
  'the worker\'s service account lacks this permission (see "RBAC" in docs/KUBERNETES.md)';

export function classifyApiError(err: unknown): ApiFailure {
  if (typeof err !== 'object' || err === null) return { kind: 'retry', message: String(err) };
  const status = httpStatus(err);
  if (status === undefined) {
    // No HTTP answer: connection refused or reset, DNS, TLS, timeout. The server may be back soon.
    const e = err as { message?: string; code?: unknown };
    const code = typeof e.code === 'string' ? `${e.code}: ` : '';
    return { kind: 'retry', message: `${code}${e.message ?? 'the request failed'}` };
  }
  const body = statusBody((err as { body?: unknown }).body);
  const message = body?.message ?? `HTTP ${status}`;
  if (status === 409 && (body?.reason === 'AlreadyExists' || body?.reason === undefined))
    return { kind: 'exists', message };
  if (status === 404) return { kind: 'not-found', message };
  if (status === 410) return { kind: 'expired', message };
  if (status === 403) return { kind: 'forbidden', message: `${message} (${RBAC_HINT})` };
  if (status === 429 || status >= 500)
    return { kind: 'retry', message: `HTTP ${status}: ${message}` };
  if (status === 401)
    return {
      kind: 'fatal',
      message:
        'Unauthorized: the API server rejected the credentials of the kubeconfig or service account',
    };
  return { kind: 'fatal', message: `HTTP ${status}: ${message}` };
}
