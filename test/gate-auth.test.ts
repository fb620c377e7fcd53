/** Auth, roles, headers and rate limits on a real `chainr sched` process with tokens configured. */
import { describe, expect, it } from 'vitest';
import { TOKENS, bearer, schedWithTokens } from './gate-fixtures.ts';

// noop: with auth on, the local executor is not offered.
const PIPELINE = {
  kind: 'Pipeline',
  jobs: { a: { executor: 'noop', image: 'busybox', run: 'exit 0' } },
};
const SCHEDULE = { cron: '0 3 * * *', pipeline: PIPELINE };

const sched = schedWithTokens({ CHAINR_PREFIX: 'gate-auth:', LOG_LEVEL: 'trace' });

const post = (path: string, body: unknown, token?: string) =>
  fetch(`${sched().url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && bearer(token)) },
    body: JSON.stringify(body),
  });

describe('auth on (CHAINR_TOKENS_FILE)', () => {
  it('answers anonymous API requests 401 with an Error object and WWW-Authenticate: Bearer', async () => {
    for (const res of [await fetch(`${sched().url}/api/runs`), await post('/api/runs', PIPELINE)]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="chainr"/);
      expect(await res.json()).toEqual({ kind: 'Error', error: expect.any(String) as string });
    }
  });

  it('answers an unknown token 401 and keeps the discovery document public', async () => {
    const res = await fetch(`${sched().url}/api/runs`, { headers: bearer('not-a-token') });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await fetch(`${sched().url}/api`)).status).toBe(200);
  });

  it('lets a viewer read but not submit (403)', async () => {
    expect(
      (await fetch(`${sched().url}/api/runs`, { headers: bearer(TOKENS.viewer) })).status,
    ).toBe(200);
    const res = await post('/api/runs', PIPELINE, TOKENS.viewer);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(((await res.json()) as { error: string }).error).toContain('needs operator');
  });

  it('lets an operator submit, cancel and retry, but not create schedules', async () => {
    const res = await post('/api/runs', PIPELINE, TOKENS.operator);
    expect(res.status).toBe(202);
    const { metadata } = (await res.json()) as { metadata: { uid: string } };
    const cancel = await post(`/api/runs/${metadata.uid}/cancel`, {}, TOKENS.operator);
    expect([202, 409]).toContain(cancel.status);
    expect((await post('/api/schedules', SCHEDULE, TOKENS.operator)).status).toBe(403);
  });

  it('lets an admin create schedules', async () => {
    const res = await post('/api/schedules', SCHEDULE, TOKENS.admin);
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  });

  it('sends the security headers on every answer, streams included, and no CORS by default', async () => {
    const answers = [
      await fetch(`${sched().url}/api`),
      await fetch(`${sched().url}/api/runs`),
      await fetch(`${sched().url}/`),
    ];
    const controller = new AbortController();
    const sse = await fetch(`${sched().url}/api/events`, {
      headers: bearer(TOKENS.viewer),
      signal: controller.signal,
    });
    answers.push(sse);
    for (const res of answers) {
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
    }
    controller.abort();
    const cors = await fetch(`${sched().url}/api`, { headers: { origin: 'https://evil.example' } });
    expect(cors.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never writes a token to the logs', () => {
    const output = sched().output();
    for (const token of Object.values(TOKENS)) expect(output).not.toContain(token);
    expect(output).not.toContain('not-a-token');
  });
});
