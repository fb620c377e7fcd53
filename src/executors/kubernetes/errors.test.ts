import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';
import { classifyApiError } from './errors.ts';

const status = (code: number, reason: string, message: string) =>
  new ApiException(
    code,
    'Unknown API Status Code!',
    JSON.stringify({ kind: 'Status', code, reason, message }),
    {},
  );

describe('classifyApiError', () => {
  it('retries what an unreachable, restarting or overloaded API server answers', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), {
      code: 'ECONNREFUSED',
    });
    expect(classifyApiError(refused)).toEqual({
      kind: 'retry',
      message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:6443',
    });
    expect(classifyApiError(status(503, 'ServiceUnavailable', 'down')).kind).toBe('retry');
    expect(classifyApiError(status(429, 'TooManyRequests', 'slow down')).kind).toBe('retry');
    expect(
      classifyApiError(Object.assign(new Error('Gateway Timeout'), { statusCode: 504 })).kind,
    ).toBe('retry');
  });

  it('recognises an existing Job (re-attach) and a missing object', () => {
    expect(
      classifyApiError(status(409, 'AlreadyExists', 'jobs.batch "x" already exists')).kind,
    ).toBe('exists');
    expect(classifyApiError(status(404, 'NotFound', 'jobs.batch "x" not found')).kind).toBe(
      'not-found',
    );
  });

  it('names the missing permission of a 403, with a pointer to the RBAC the worker needs', () => {
    const message =
      'jobs.batch is forbidden: User "system:serviceaccount:ci:worker" cannot create resource "jobs" in API group "batch" in the namespace "ci"';
    const failure = classifyApiError(status(403, 'Forbidden', message));
    expect(failure.kind).toBe('forbidden');
    expect(failure.message).toContain(message);
    expect(failure.message).toContain('docs/KUBERNETES.md');
  });

  it('does not retry a request the server refuses as invalid', () => {
    expect(classifyApiError(status(422, 'Invalid', 'Job.batch "x" is invalid: spec...'))).toEqual({
      kind: 'fatal',
      message: 'HTTP 422: Job.batch "x" is invalid: spec...',
    });
    expect(classifyApiError(new ApiException(401, 'Unauthorized', undefined, {})).kind).toBe(
      'fatal',
    );
  });
});

describe('backoffDelay', () => {
  it('doubles from the first delay up to the longest, within ±20%', () => {
    const b = { initialMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(b, n, () => 0.5))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    expect(backoffDelay(b, 0, () => 0)).toBe(80);
    expect(backoffDelay(b, 0, () => 1)).toBe(120);
  });
});
