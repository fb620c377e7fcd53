/**
 * The API client that the CLI and the UI share (src/api/client.ts), against a real sched and
 * worker on a real Redis with auth on: typed answers, typed errors, the bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ChainrClient, type RunStreamItem } from '../src/api/client.ts';
import type { Pipeline } from '../src/core/types.ts';
import { sha256 } from '../src/http/auth/tokens.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

const TOKEN = 'client-test-admin-token';
let redis: TestRedis;
let api: Harness;

beforeAll(async () => {
  redis = await startRedis();
  api = await startInProcess(redis.url, {
    security: {
      tokens: [{ name: 'admin', role: 'admin', digest: sha256(TOKEN) }],
      corsOrigins: [],
      allowedHosts: [],
    },
  });
});

afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

const pipeline: Pipeline = {
  kind: 'Pipeline',
  metadata: { name: 'greet' },
  params: { who: { default: 'world' } },
  jobs: { hello: { image: 'busybox', run: 'echo hello' } },
};

describe('ChainrClient against a real server', () => {
  it('sends its token and answers the wire types: a run submitted, followed, listed, its log', async () => {
    const client = new ChainrClient({ server: api.url, token: TOKEN });
    const run = await client.submit(pipeline, { who: 'client' });
    expect(run).toMatchObject({
      kind: 'Run',
      metadata: { name: 'greet' },
      params: { who: 'client' },
    });
    const uid = run.metadata.uid;

    const items: RunStreamItem[] = [];
    for await (const item of client.runEvents(uid)) items.push(item);
    expect(items[0]?.kind).toBe('snapshot');
    expect(items.at(-1)).toEqual({ kind: 'end' });

    const ended = await client.getRun(uid);
    expect(ended.status).toBe('SUCCESSFUL');
    expect(ended.jobs.map((j) => [j.name, j.status])).toEqual([['hello', 'SUCCESSFUL']]);

    let log = '';
    for await (const chunk of client.jobLog(uid, 'hello')) log += chunk;
    expect(log).toBe('hello\n');

    const list = await client.listRuns({ name: 'greet', limit: 5 });
    expect(list.kind).toBe('RunList');
    expect(list.items.map((r) => r.metadata.uid)).toContain(uid);
    const counts = await client.countRuns();
    expect(counts.counts.SUCCESSFUL).toBeGreaterThanOrEqual(1);
  });

  it('creates, pauses, resumes and deletes a schedule', async () => {
    const client = new ChainrClient({ server: api.url, token: TOKEN });
    const created = await client.createSchedule({ cron: '0 3 * * *', name: 'nightly', pipeline });
    const id = created.metadata.uid;
    expect(created).toMatchObject({ kind: 'Schedule', paused: false, cron: '0 3 * * *' });
    expect((await client.pauseSchedule(id)).paused).toBe(true);
    expect((await client.resumeSchedule(id)).paused).toBe(false);
    expect((await client.listSchedules()).items.map((s) => s.metadata.uid)).toContain(id);
    await client.deleteSchedule(id);
    expect((await client.listSchedules()).items.map((s) => s.metadata.uid)).not.toContain(id);
  });

  it("throws ApiError with the status and the API's Error body", async () => {
    const client = new ChainrClient({ server: api.url, token: TOKEN });
    const missing = await client
      .getRun('01900000-0000-7000-8000-00000000dead')
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, body: { kind: 'Error' } });
    expect((missing as ApiError).message).toMatch(/not found/i);
    expect((missing as ApiError).message).toBe((missing as ApiError).body?.error);

    const invalid = await client
      .submitText('kind: Pipeline\njobs:\n  Bad_Name: { image: busybox, run: "true" }\n', 'yaml')
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ApiError);
    expect(invalid).toMatchObject({ status: 400 });
    expect((invalid as ApiError).details).toContainEqual(
      expect.objectContaining({ path: expect.stringContaining('Bad_Name') as unknown, line: 3 }),
    );
  });

  it('without a token, answers 401 as an ApiError and tells onUnauthorized; reads the token per request', async () => {
    // The UI's token: none until the user gives one.
    const session: { token?: string } = {};
    let unauthorized = 0;
    const client = new ChainrClient({
      server: api.url,
      token: () => session.token,
      onUnauthorized: () => unauthorized++,
    });
    const refused = await client.listRuns().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 401, body: { kind: 'Error' } });
    expect(unauthorized).toBe(1);

    session.token = TOKEN;
    expect((await client.listRuns({ limit: 1 })).kind).toBe('RunList');
    expect(unauthorized).toBe(1);
  });
});
