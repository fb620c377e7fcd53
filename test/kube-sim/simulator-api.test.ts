/**
 * The simulator speaks the API server's protocol: these tests pin the wire behaviour chainr's
 * executor relies on (and that a real cluster has), through raw HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, watchEvents } from './raw-client.ts';
import { KubeSim } from './simulator.ts';
import type { SimJob } from './store.ts';

// vitest's asymmetric matchers are typed `any`: typed as what they stand for here.
const matching = (re: RegExp): unknown => expect.stringMatching(re);
const containing = (o: Record<string, unknown>): unknown => expect.objectContaining(o);

let sim: KubeSim;
beforeAll(async () => {
  sim = await KubeSim.start({ stepMs: 20, killGraceMs: 500 });
});
afterAll(() => sim.stop());

const JOBS = '/apis/batch/v1/namespaces/default/jobs';

function job(
  name: string,
  extra: {
    labels?: Record<string, string>;
    spec?: Record<string, unknown>;
    container?: Record<string, unknown>;
  } = {},
) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, ...(extra.labels && { labels: extra.labels }) },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 0'], ...extra.container },
          ],
        },
      },
      ...extra.spec,
    },
  };
}

describe('kube-sim: requests and errors', () => {
  it('answers /version to anyone, and 401 without the bearer token', async () => {
    expect((await raw(sim, 'GET', '/version', { token: null })).json()).toMatchObject({
      major: '1',
      gitVersion: matching(/^v1\./),
    });
    const denied = await raw(sim, 'GET', JOBS, { token: 'wrong' });
    expect(denied.status).toBe(401);
    expect(denied.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  it('creates a Job with the defaults and labels the API server adds, then 409s a second create', async () => {
    const created = await raw(sim, 'POST', JOBS, { body: job('defaults') });
    expect(created.status).toBe(201);
    const body = created.json<SimJob>();
    const uid = body.metadata.uid;
    expect(body.metadata).toMatchObject({
      name: 'defaults',
      namespace: 'default',
      uid: matching(/^[0-9a-f-]{36}$/),
      resourceVersion: matching(/^\d+$/),
      creationTimestamp: matching(/Z$/),
    });
    expect(body.spec).toMatchObject({
      backoffLimit: 6,
      completions: 1,
      parallelism: 1,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
    });
    expect(body.spec?.template.metadata?.labels).toMatchObject({
      'batch.kubernetes.io/job-name': 'defaults',
      'job-name': 'defaults',
    });
    expect(body.spec?.template.spec?.containers[0]).toMatchObject({
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'Always',
    });
    const again = await raw(sim, 'POST', JOBS, { body: job('defaults') });
    expect(again.status).toBe(409);
    expect(again.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'jobs.batch "defaults" already exists',
      reason: 'AlreadyExists',
      details: { name: 'defaults', group: 'batch', kind: 'jobs' },
      code: 409,
    });
  });

  it.each([
    ['an uppercase name', job('Bad_Name'), 'metadata.name'],
    ['a name longer than a label value', job('a'.repeat(64)), 'spec.template.labels'],
    [
      'restartPolicy Always',
      {
        ...job('always'),
        spec: {
          template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'x' }] } },
        },
      },
      'spec.template.spec.restartPolicy',
    ],
    [
      'a container without image',
      job('noimage', { container: { image: '' } }),
      'spec.template.spec.containers[0].image',
    ],
    ['a wrongly typed field', job('typed', { spec: { backoffLimit: 'six' } }), 'spec.backoffLimit'],
    ['an invalid label value', job('label', { labels: { a: 'not valid!' } }), 'metadata.labels'],
    [
      'a mount of a volume that does not exist',
      job('mount', { container: { volumeMounts: [{ name: 'nope', mountPath: '/x' }] } }),
      'spec.template.spec.containers[0].volumeMounts[0].name',
    ],
  ])('refuses %s with 422 Invalid naming the field', async (_what, body, field) => {
    const res = await raw(sim, 'POST', JOBS, { body });
    expect(res.status).toBe(422);
    const status = res.json<{ reason: string; details: { causes: { field: string }[] } }>();
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes.map((c) => c.field)).toContain(field);
  });

  it('drops unknown fields with a warning, and refuses them under fieldValidation=Strict', async () => {
    const body = job('unknown', { spec: { bogus: 1 } });
    const strict = await raw(sim, 'POST', `${JOBS}?fieldValidation=Strict`, { body });
    expect(strict.status).toBe(400);
    expect(strict.json()).toMatchObject({
      reason: 'BadRequest',
      message: 'strict decoding error: unknown field "spec.bogus"',
    });
    const lenient = await raw(sim, 'POST', JOBS, { body });
    expect(lenient.status).toBe(201);
    expect(lenient.headers.warning).toBe('299 - "unknown field \\"spec.bogus\\""');
    expect(lenient.json<{ spec: Record<string, unknown> }>().spec.bogus).toBeUndefined();
  });

  it('answers 404 with the real messages', async () => {
    expect((await raw(sim, 'GET', `${JOBS}/missing`)).json()).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'jobs.batch "missing" not found',
    });
    expect(
      (await raw(sim, 'POST', '/apis/batch/v1/namespaces/nope/jobs', { body: job('x') })).json(),
    ).toMatchObject({ code: 404, message: 'namespaces "nope" not found' });
    expect((await raw(sim, 'GET', '/apis/apps/v1/deployments')).status).toBe(404);
  });
});

describe('kube-sim: lists and watches', () => {
  it('lists with label and field selectors, as a JobList with a resourceVersion', async () => {
    await raw(sim, 'POST', JOBS, { body: job('sel-a', { labels: { team: 'a', tier: 'x' } }) });
    await raw(sim, 'POST', JOBS, { body: job('sel-b', { labels: { team: 'b' } }) });
    const names = async (query: string) =>
      (await raw(sim, 'GET', `${JOBS}?${query}`))
        .json<{ items: { metadata: { name: string } }[] }>()
        .items.map((i) => i.metadata.name)
        .sort();
    expect(await names('labelSelector=team%3Da')).toEqual(['sel-a']);
    expect(await names('labelSelector=team%20in%20(a%2Cb)')).toEqual(['sel-a', 'sel-b']);
    expect(await names('labelSelector=team%2C!tier')).toEqual(['sel-b']);
    expect(await names('fieldSelector=metadata.name%3Dsel-b')).toEqual(['sel-b']);
    const list = (await raw(sim, 'GET', `${JOBS}?labelSelector=team%3Da`)).json<{
      kind: string;
      metadata: { resourceVersion: string };
      items: Record<string, unknown>[];
    }>();
    expect(list.kind).toBe('JobList');
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(list.items[0]?.kind).toBeUndefined(); // items of a typed list carry no kind
    expect((await raw(sim, 'GET', `${JOBS}?fieldSelector=spec.foo%3Dx`)).status).toBe(400);
  });

  it('watches from a resourceVersion, starts with ADDED events without one, and answers 410 once compacted', async () => {
    const created = (
      await raw(sim, 'POST', JOBS, { body: job('watched', { labels: { w: '1' } }) })
    ).json<{ metadata: { resourceVersion: string } }>();
    const fresh = await watchEvents(sim, `${JOBS}?watch=true&labelSelector=w%3D1`, 1);
    expect(fresh[0]).toMatchObject({
      type: 'ADDED',
      object: { kind: 'Job', apiVersion: 'batch/v1', metadata: { name: 'watched' } },
    });
    const replay = await watchEvents(
      sim,
      `${JOBS}?watch=true&labelSelector=w%3D1&resourceVersion=${created.metadata.resourceVersion}`,
      1,
    );
    expect(replay[0]?.type).toBe('MODIFIED'); // the controller's status updates after the create
    sim.expireWatches();
    const expired = await watchEvents(
      sim,
      `${JOBS}?watch=true&resourceVersion=${created.metadata.resourceVersion}`,
      1,
    );
    expect(expired).toEqual([
      {
        type: 'ERROR',
        object: containing({ kind: 'Status', code: 410, reason: 'Expired' }),
      },
    ]);
  });

  it('ends a watch at timeoutSeconds, and sends bookmarks when asked', async () => {
    const bookmarks = await KubeSim.start({ bookmarkMs: 100 });
    try {
      const started = Date.now();
      const events = await watchEvents(
        bookmarks,
        `${JOBS}?watch=true&timeoutSeconds=1&allowWatchBookmarks=true`,
        100,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(events.length).toBeGreaterThan(3);
      expect(events.every((e) => e.type === 'BOOKMARK')).toBe(true);
    } finally {
      await bookmarks.stop();
    }
  });
});
