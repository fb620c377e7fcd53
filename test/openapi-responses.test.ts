/**
 * The API answers what its OpenAPI document says, checked by an independent validator
 * (openapi-backend): a tour of every operation of the document against a real server and a real
 * redis-server — each status the routes declare, the 405s, 401/403 with auth on, 429 with a rate
 * limit, 503 with Redis stopped — each answer's status, headers and body validated. An answer
 * with a status, content type, header or body the document does not describe fails.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import formats from 'ajv-formats';
import OpenAPIBackend, { type Operation } from 'openapi-backend';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemArtifactStore } from '../src/artifacts/filesystem-store.ts';
import { sha256 } from '../src/http/auth/tokens.ts';
import { waitForEnd } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let redis: TestRedis;
let api: Harness;
let artifactRoot: string;
let secured: Harness;
let limited: Harness;
let document: Document;
let validator: OpenAPIBackend;

/** ajv-formats is CommonJS: its function is the default export's default. */
const addFormats = formats as unknown as typeof formats.default;

interface Document {
  paths: Record<
    string,
    Record<string, { operationId: string; responses: Record<string, unknown> }>
  >;
}

const VIEWER = 'viewer-token';
const OPERATOR = 'operator-token';

beforeAll(async () => {
  redis = await startRedis();
  artifactRoot = mkdtempSync(join(tmpdir(), 'chainr-openapi-artifacts-'));
  api = await startInProcess(redis.url, {
    artifacts: {
      store: new FilesystemArtifactStore(artifactRoot),
      limits: { perArtifact: 1024 * 1024, perRun: 1024 * 1024 },
    },
  });
  secured = await startInProcess(redis.url, {
    work: false,
    security: {
      tokens: [
        { name: 'viewer', role: 'viewer', digest: sha256(VIEWER) },
        { name: 'operator', role: 'operator', digest: sha256(OPERATOR) },
      ],
      corsOrigins: [],
      allowedHosts: [],
    },
  });
  limited = await startInProcess(redis.url, {
    work: false,
    security: {
      tokens: [],
      rateLimit: { perSecond: 0.01, burst: 1 },
      corsOrigins: [],
      allowedHosts: [],
    },
  });
  document = (await (await fetch(`${api.url}/api/openapi.json`)).json()) as Document;
  // The document's own validity is redocly's check (openapi-lint.test.ts): openapi-backend checks
  // a definition against the OpenAPI 3.0 schema only (quick skips it); here it routes requests
  // and validates answers, formats (date-time) included.
  validator = new OpenAPIBackend({
    definition: structuredClone(document) as never,
    quick: true,
    customizeAjv: (ajv) => addFormats(ajv),
  });
  await validator.init();
});
afterAll(async () => {
  await limited.stop();
  await secured.stop();
  // Known and open: after Redis was killed and restarted under followed logs and event streams,
  // this server's close does not finish (a service's own exit is cut by its grace timer; the
  // harness has none). Bounded here so that the hang is not the suite's.
  await Promise.race([api.stop(), new Promise((done) => setTimeout(done, 10_000))]);
  await redis.stop();
  rmSync(artifactRoot, { recursive: true, force: true });
});

/** Every operation and status the tour saw, as `operationId status`. */
const seen = new Set<string>();

interface Visit {
  headers?: Record<string, string>;
  body?: string;
  /** Read the body only until this much arrived (an event stream that stays open). */
  stopAfter?: number;
}

/**
 * A body over the limit is refused before it is all read: such a request gets a connection of
 * its own, closed afterwards, so that no later request shares a socket with what is left of it.
 */
const ALONE = 64 * 1024;

/**
 * Sends one request and checks its answer against the document: the operation exists, the status
 * is one it lists, the content type one the status lists, the required headers are there and
 * valid, and a JSON body is valid. Returns the answer for the tour's own checks.
 */
async function visit(base: string, method: string, url: string, options: Visit = {}) {
  const alone = (options.body?.length ?? 0) > ALONE ? new Agent() : undefined;
  const response = await fetch(`${base}${url}`, {
    method,
    ...(options.headers && { headers: options.headers }),
    ...(options.body !== undefined && { body: options.body }),
    ...(alone && { dispatcher: alone }),
    signal: AbortSignal.timeout(15_000),
  } as RequestInit);
  const text = await readBody(response, options.stopAfter);
  await alone?.destroy();
  const [path = '', search = ''] = url.split('?');
  const operation = validator.router.matchOperation({
    method,
    path,
    headers: {},
    query: Object.fromEntries(new URLSearchParams(search)),
  });
  const where = `${method} ${url} → ${response.status}`;
  expect(operation, `${where}: no operation of the document`).toBeDefined();
  const op = operation as Operation;
  const status = String(response.status);
  const documented = op.responses?.[status] as
    { content?: Record<string, unknown>; headers?: Record<string, unknown> } | undefined;
  expect(documented, `${where}: status not documented for ${op.operationId}`).toBeDefined();
  seen.add(`${op.operationId} ${status}`);

  const headers = Object.fromEntries(response.headers.entries());
  const headerCheck = validator.validator.validateResponseHeaders(headers, op, {
    statusCode: response.status,
    setMatchType: 'superset' as never,
  });
  expect(headerCheck.errors, `${where}: headers ${JSON.stringify(headers)}`).toBeNull();

  const type = (headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const types = Object.keys(documented?.content ?? {}).map((t) => t.split(';')[0]?.trim());
  if (method === 'HEAD' || types.length === 0) return { response, text };
  expect(types, `${where}: content type ${type}`).toContain(type);
  if (type === 'application/json') {
    const body: unknown = JSON.parse(text);
    const bodyCheck = validator.validator.validateResponse(body, op, response.status);
    expect(bodyCheck.errors, `${where}: body ${text.slice(0, 500)}`).toBeNull();
  }
  return { response, text };
}

async function readBody(response: Response, stopAfter?: number): Promise<string> {
  if (stopAfter === undefined) return response.text();
  const reader = response.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  let text = '';
  while (text.length < stopAfter) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  await reader.cancel();
  return text;
}

const json = (value: unknown) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

const PIPELINE = {
  kind: 'Pipeline',
  jobs: {
    hello: {
      image: 'busybox',
      run: 'echo hello | tee greeting',
      artifacts: [{ name: 'greeting', path: 'greeting' }],
    },
    after: { image: 'busybox', run: 'echo after', dependsOn: [{ job: 'hello' }] },
  },
};
const FAILING = { kind: 'Pipeline', jobs: { fail: { image: 'busybox', run: 'exit 3' } } };
const SLOW = { kind: 'Pipeline', jobs: { slow: { image: 'busybox', run: 'sleep 30' } } };
const UNKNOWN = '01900000-0000-7000-8000-000000000000';

/** All methods of a path: HEAD answers as GET does (without the body). */
const ALL = (paths: string[]) =>
  paths.flatMap((p) => (['GET', 'HEAD'] as const).map((m) => [m, p]));

describe('the tour', () => {
  it('discovery, runs, events and logs answer as documented', async () => {
    for (const [method, url] of ALL(['/api', '/api/schema/pipeline', '/api/openapi.json'])) {
      expect((await visit(api.url, method!, url!)).response.status).toBe(200);
    }

    const created = await visit(api.url, 'POST', '/api/runs', json(PIPELINE));
    expect(created.response.status).toBe(202);
    const uid = (JSON.parse(created.text) as { metadata: { uid: string } }).metadata.uid;
    // The {pipeline, params} form, and a body sent as a form (curl -d), are the same operation.
    const enveloped = await visit(api.url, 'POST', '/api/runs', json({ pipeline: FAILING }));
    expect(enveloped.response.status).toBe(202);
    const failed = (JSON.parse(enveloped.text) as { metadata: { uid: string } }).metadata.uid;
    const form = await visit(api.url, 'POST', '/api/runs', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify(PIPELINE),
    });
    expect(form.response.status).toBe(202);
    await waitForEnd(api.url, uid);
    await waitForEnd(api.url, failed);

    const refusals: [string, Visit, number][] = [
      ['invalid pipeline', json({ kind: 'Pipeline', jobs: {} }), 400],
      ['XML', { headers: { 'content-type': 'text/xml' }, body: '<x/>' }, 415],
      ['too large', json({ pad: 'x'.repeat(1024 * 1024) }), 413],
    ];
    for (const [why, request, status] of refusals) {
      const { response } = await visit(api.url, 'POST', '/api/runs', request);
      expect(response.status, why).toBe(status);
    }

    for (const [method, url] of ALL([
      '/api/runs',
      '/api/runs?status=SUCCESSFUL&limit=1',
      '/api/runs/counts',
      '/api/pipelines/hello/trends?days=7',
      `/api/runs/${uid}`,
      `/api/runs/${uid}/jobs/hello/logs`,
      `/api/runs/${uid}/jobs/hello/logs?follow=true`,
      `/api/runs/${uid}/jobs/hello/logs?attempt=1`,
      `/api/runs/${uid}/events`,
      `/api/runs/${uid}/jobs/hello/artifacts`,
      `/api/runs/${uid}/jobs/hello/artifacts/greeting`,
    ])) {
      expect((await visit(api.url, method!, url!)).response.status).toBe(200);
    }
    const artifact = `/api/runs/${uid}/jobs/hello/artifacts/greeting`;
    const range = await visit(api.url, 'GET', artifact, { headers: { range: 'bytes=0-1' } });
    expect([range.response.status, range.text]).toEqual([206, 'he']);
    const headRange = await visit(api.url, 'HEAD', artifact, { headers: { range: 'bytes=0-1' } });
    expect(headRange.response.status).toBe(206);
    const outside = await visit(api.url, 'GET', artifact, { headers: { range: 'bytes=99-' } });
    expect(outside.response.status).toBe(416);
    const log = await visit(api.url, 'GET', `/api/runs/${uid}/jobs/hello/logs`);
    expect(log.text).toBe('hello\n');
    const events = await visit(api.url, 'GET', `/api/runs/${uid}/events`);
    expect(events.text).toContain('event: end');
    const stream = await visit(api.url, 'GET', '/api/events', { stopAfter: 1 });
    expect(stream.response.status).toBe(200);
    expect((await visit(api.url, 'HEAD', '/api/events')).response.status).toBe(200);
    const badResume = await visit(api.url, 'GET', '/api/events', {
      headers: { 'last-event-id': 'yesterday' },
    });
    expect(badResume.response.status).toBe(400);

    expect((await visit(api.url, 'GET', '/api/runs?continue=nope')).response.status).toBe(400);
    const noDays = await visit(api.url, 'GET', '/api/pipelines/hello/trends?days=0');
    expect(noDays.response.status).toBe(400);
    const badAttempt = `/api/runs/${uid}/jobs/hello/logs?attempt=first`;
    expect((await visit(api.url, 'GET', badAttempt)).response.status).toBe(400);
    for (const url of [
      `/api/runs/${UNKNOWN}`,
      `/api/runs/${UNKNOWN}/events`,
      `/api/runs/${uid}/jobs/nope/logs`,
      `/api/runs/${uid}/jobs/hello/logs?attempt=2`,
      `/api/runs/${uid}/jobs/nope/artifacts`,
      `/api/runs/${uid}/jobs/hello/artifacts/nope`,
    ]) {
      expect((await visit(api.url, 'GET', url)).response.status).toBe(404);
    }
    for (const action of ['cancel', 'retry', 'resubmit']) {
      const unknown = await visit(api.url, 'POST', `/api/runs/${UNKNOWN}/${action}`);
      expect(unknown.response.status).toBe(404);
    }
    const badQuery = await visit(api.url, 'POST', `/api/runs/${uid}/cancel?force=maybe`);
    expect(badQuery.response.status).toBe(400);
    // An ended run cannot be canceled; a SUCCESSFUL one has nothing to retry.
    expect((await visit(api.url, 'POST', `/api/runs/${uid}/cancel`)).response.status).toBe(409);
    expect((await visit(api.url, 'POST', `/api/runs/${uid}/retry`)).response.status).toBe(409);
    expect((await visit(api.url, 'POST', `/api/runs/${failed}/retry`)).response.status).toBe(202);
    const resubmitted = await visit(api.url, 'POST', `/api/runs/${uid}/resubmit`);
    expect(resubmitted.response.status).toBe(202);
    const slow = await visit(api.url, 'POST', '/api/runs', json(SLOW));
    const slowUid = (JSON.parse(slow.text) as { metadata: { uid: string } }).metadata.uid;
    expect((await visit(api.url, 'POST', `/api/runs/${slowUid}/cancel`)).response.status).toBe(202);
  });

  it('schedules, notifications, instances and health answer as documented', async () => {
    const schedule = { cron: '0 3 * * *', name: 'nightly', pipeline: PIPELINE };
    const created = await visit(api.url, 'POST', '/api/schedules', json(schedule));
    expect(created.response.status).toBe(201);
    const id = (JSON.parse(created.text) as { metadata: { uid: string } }).metadata.uid;
    expect(created.response.headers.get('location')).toBe(`/api/schedules/${id}`);
    const refusals: [string, Visit, number][] = [
      ['bad cron', json({ ...schedule, cron: 'never' }), 400],
      ['XML', { headers: { 'content-type': 'text/xml' }, body: '<x/>' }, 415],
      ['too large', json({ pad: 'x'.repeat(1024 * 1024) }), 413],
    ];
    for (const [why, request, status] of refusals) {
      const { response } = await visit(api.url, 'POST', '/api/schedules', request);
      expect(response.status, why).toBe(status);
    }
    for (const [method, url] of ALL([
      '/api/schedules',
      `/api/schedules/${id}`,
      '/api/notifications',
      '/api/instances',
      '/api/health',
    ])) {
      expect((await visit(api.url, method!, url!)).response.status).toBe(200);
    }
    const badPage = await visit(api.url, 'GET', '/api/notifications?continue=nope');
    expect(badPage.response.status).toBe(400);
    for (const [method, action] of [
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['GET', ''],
      ['DELETE', ''],
    ] as const) {
      expect((await visit(api.url, method, `/api/schedules/${id}${action}`)).response.status).toBe(
        200,
      );
      const missing = await visit(api.url, method, `/api/schedules/${randomUUID()}${action}`);
      expect(missing.response.status).toBe(404);
    }
  });

  it('every method a resource refuses answers 405 with Allow', async () => {
    for (const [template, item] of Object.entries(document.paths)) {
      const url = template
        .replace('{uid}', UNKNOWN)
        .replace('{id}', UNKNOWN)
        .replace('{name}', 'a');
      for (const [method, operation] of Object.entries(item)) {
        if (!operation.operationId.includes('_notAllowed')) continue;
        const { response } = await visit(api.url, method.toUpperCase(), url);
        expect(response.status, `${method} ${url}`).toBe(405);
      }
    }
  });

  it('with auth on: 401 without a token or with a wrong one, 403 below the role needed', async () => {
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await visit(secured.url, 'GET', '/api')).response.status).toBe(200);
    expect((await visit(secured.url, 'GET', '/api/runs')).response.status).toBe(401);
    expect((await visit(secured.url, 'GET', '/api/runs', bearer('wrong'))).response.status).toBe(
      401,
    );
    expect((await visit(secured.url, 'GET', '/api/runs', bearer(VIEWER))).response.status).toBe(
      200,
    );
    const submit = {
      ...json(PIPELINE),
      headers: { ...json(PIPELINE).headers, ...bearer(VIEWER).headers },
    };
    expect((await visit(secured.url, 'POST', '/api/runs', submit)).response.status).toBe(403);
    const schedule = { headers: bearer(OPERATOR).headers };
    const del = await visit(secured.url, 'DELETE', `/api/schedules/${UNKNOWN}`, schedule);
    expect(del.response.status).toBe(403);
  });

  it('with a rate limit: 429 with Retry-After', async () => {
    expect((await visit(limited.url, 'GET', '/api/health')).response.status).toBe(200);
    const { response } = await visit(limited.url, 'GET', '/api/health');
    expect(response.status).toBe(429);
  });

  it('with Redis stopped: 503 from every operation that reads or writes it', async () => {
    const runs = await (await fetch(`${api.url}/api/runs?limit=1`)).json();
    const uid = (runs as { items: { metadata: { uid: string } }[] }).items[0]!.metadata.uid;
    await redis.kill();
    try {
      const requests: [string, string, Visit?][] = [
        ['POST', '/api/runs', json(PIPELINE)],
        ['GET', '/api/runs'],
        ['GET', '/api/runs/counts'],
        ['GET', '/api/pipelines/hello/trends'],
        ['GET', `/api/runs/${uid}`],
        ['POST', `/api/runs/${uid}/cancel`],
        ['POST', `/api/runs/${uid}/retry`],
        ['POST', `/api/runs/${uid}/resubmit`],
        ['GET', `/api/runs/${uid}/events`],
        ['GET', '/api/events'],
        ['GET', `/api/runs/${uid}/jobs/hello/logs`],
        ['GET', `/api/runs/${uid}/jobs/hello/artifacts`],
        ['GET', `/api/runs/${uid}/jobs/hello/artifacts/greeting`],
        ['POST', '/api/schedules', json({ cron: '0 3 * * *', pipeline: PIPELINE })],
        ['GET', '/api/schedules'],
        ['GET', `/api/schedules/${UNKNOWN}`],
        ['DELETE', `/api/schedules/${UNKNOWN}`],
        ['POST', `/api/schedules/${UNKNOWN}/pause`],
        ['POST', `/api/schedules/${UNKNOWN}/resume`],
        ['GET', '/api/notifications'],
        ['GET', '/api/instances'],
        ['GET', '/api/health'],
      ];
      const answers = await Promise.all(
        requests.map(async ([method, url, request]) => {
          const { response } = await visit(api.url, method, url, request);
          return `${method} ${url} ${response.status}`;
        }),
      );
      expect(answers).toEqual(requests.map(([method, url]) => `${method} ${url} 503`));
    } finally {
      await redis.start();
    }
  });

  it('visited every operation of the document, and every status each route declares', () => {
    const operations = Object.values(document.paths).flatMap((item) =>
      Object.values(item).map((op) => op.operationId),
    );
    const visited = new Set([...seen].map((s) => s.split(' ')[0]));
    expect(operations.filter((id) => !visited.has(id))).toEqual([]);
    // A route's own statuses (not the shared answers under components.responses); of a HEAD,
    // its success (its refusals are its GET's, already visited).
    const declared = Object.values(document.paths).flatMap((item) =>
      Object.values(item).flatMap((op) =>
        Object.entries(op.responses)
          .filter(([, r]) => !(r as { $ref?: string }).$ref)
          .filter(([status]) => !op.operationId.endsWith('-head') || /^(2..|405)$/.test(status))
          .map(([status]) => `${op.operationId} ${status}`),
      ),
    );
    expect(declared.filter((d) => !seen.has(d) && !NOT_PRODUCED.has(d))).toEqual([]);
    console.log(
      `visited ${operations.length} operations, ${seen.size} operation-status pairs ` +
        `(${declared.length} declared by the routes)`,
    );
  });
});

/**
 * Statuses a route declares that the tour cannot bring about on an unmodified server: a
 * resubmission refused (its pipeline became invalid under limits changed since it ran).
 */
const NOT_PRODUCED = new Set(['resubmitRun 400']);
