/** The committed API documents say what the running API serves; the examples are the tests'. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FALLBACK_YAML, SEED_EXAMPLE } from '../src/core/examples.fixture.ts';
import { GROUP_ABOVE } from '../src/core/fan-out.ts';
import { applyParams } from '../src/core/params.ts';
import { parsePipeline, pipelineSchema } from '../src/core/validate.ts';
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

it('docs/openapi.json is the document the API serves (regenerate: npm run docs:openapi)', async () => {
  const served: unknown = await (await fetch(`${api.url}/api/openapi.json`)).json();
  const committed: unknown = JSON.parse(
    readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8'),
  );
  expect(served).toEqual(committed);
});

it('serves the pipeline JSON Schema file at /api/schema/pipeline', async () => {
  const served: unknown = await (await fetch(`${api.url}/api/schema/pipeline`)).json();
  const file: unknown = JSON.parse(
    readFileSync(new URL('../src/core/pipeline.schema.json', import.meta.url), 'utf8'),
  );
  expect(served).toEqual(file);
  expect(served).toEqual(pipelineSchema);
});

it("the examples the unit tests inline are the repository's examples/", () => {
  const example = (name: string) =>
    readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
  expect(FALLBACK_YAML).toBe(example('fallback.yaml'));
  expect(JSON.parse(SEED_EXAMPLE)).toEqual(JSON.parse(example('seed.json')));
});

it("docs/PIPELINES.md's command and args example is valid, and gives the program its arguments as written", () => {
  const doc = readFileSync(new URL('../docs/PIPELINES.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Jobs and dependencies'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const parsed = parsePipeline(`kind: Pipeline\nparams: { target: {} }\n${yaml}`, 'yaml');
  expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  if (!parsed.ok) return;
  const migrate = parsed.pipeline.jobs.migrate;
  expect(migrate && applyParams(migrate, { target: 'prod $HOME' }).argv).toEqual([
    '/app/migrate',
    '--target',
    'prod $HOME',
    '--dry-run',
  ]);
});

it('docs/UI.md and docs/CLI.md say how many instances a fan-out has before it is grouped', () => {
  const doc = (name: string) =>
    readFileSync(new URL(`../docs/${name}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];
  const limit = words[GROUP_ABOVE] ?? String(GROUP_ABOVE);
  for (const name of ['UI.md', 'CLI.md']) {
    expect(doc(name), name).toContain(`more than ${limit}`);
    expect(doc(name), name).toContain(
      `${limit[0]?.toUpperCase()}${limit.slice(1)} instances or fewer`,
    );
  }
});
