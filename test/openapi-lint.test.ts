/**
 * The document the API serves passes `redocly lint` (the rules of redocly.yaml: the recommended
 * set) with no error and no warning, as third-party tools read it.
 */
import { fileURLToPath } from 'node:url';
import { createConfig, lintFromString, loadConfig } from '@redocly/openapi-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let redis: TestRedis;
let api: Harness;

beforeAll(async () => {
  redis = await startRedis();
  api = await startInProcess(redis.url, { work: false });
});
afterAll(async () => {
  await api.stop();
  await redis.stop();
});

const served = async () => (await fetch(`${api.url}/api/openapi.json`)).text();

async function lint(source: string) {
  const config = await loadConfig({
    configPath: fileURLToPath(new URL('../redocly.yaml', import.meta.url)),
  });
  const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config });
  return problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
}

it('the served document passes redocly lint with no error or warning', async () => {
  expect(await lint(await served())).toEqual([]);
});

it('the lint finds a fault (an operation without operationId); the recommended set alone finds no error', async () => {
  const document = JSON.parse(await served()) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const getRun = document.paths['/api/runs/{uid}']?.['get'];
  expect(getRun?.operationId).toBe('getRun');
  delete getRun?.operationId;
  expect(await lint(JSON.stringify(document))).toEqual([
    expect.stringMatching(/^warn operation-operationId .*\/get\/operationId: /),
  ]);
  // The recommended set alone (without redocly.yaml) refuses nothing more than it.
  const recommended = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({ source: await served(), config: recommended });
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
});

it('is OpenAPI 3.1 with servers, bearer security and an operationId on every operation', async () => {
  const document = JSON.parse(await served()) as {
    openapi: string;
    servers: unknown[];
    security: unknown[];
    components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
  };
  expect(document.openapi).toBe('3.1.0');
  expect(document.servers.length).toBeGreaterThan(0);
  expect(document.components.securitySchemes['bearer']).toMatchObject({
    type: 'http',
    scheme: 'bearer',
  });
  expect(document.security).toEqual([{ bearer: [] }]);
  const ids = Object.values(document.paths).flatMap((item) =>
    Object.values(item).map((op) => op.operationId),
  );
  expect(ids.filter((id) => id === undefined)).toEqual([]);
  expect(new Set(ids).size).toBe(ids.length);
  // The discovery document needs no token, even with auth on.
  expect(document.paths['/api']?.['get']?.security).toEqual([{}]);
});
