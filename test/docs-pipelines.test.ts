/**
 * Every pipeline the README and docs/ show runs as it is, on `chainr up` as `npm start` starts it
 * (the local executor): each is read out of the markdown, submitted, and followed to its end. A
 * job whose command does not exist (exit code 127, as `./load.sh` once did) fails this test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parsePipeline } from '../src/core/validate.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForEnd, type RunBody } from './fixtures/api.ts';
import { startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

const ROOT = new URL('..', import.meta.url);
const MARKDOWN = [
  'README.md',
  ...readdirSync(new URL('docs/', ROOT)).map((f) => `docs/${f}`),
].filter((f) => f.endsWith('.md'));

/** The YAML blocks of a markdown file that are whole pipelines, with the line each starts at. */
function pipelinesIn(file: string): { where: string; text: string }[] {
  const text = readFileSync(new URL(file, ROOT), 'utf8');
  const found: { where: string; text: string }[] = [];
  for (const match of text.matchAll(/^```yaml\n([\s\S]*?)^```/gm)) {
    const body = match[1] ?? '';
    // a pipeline, not a fragment showing one line of it
    if (!/^kind: Pipeline$/m.test(body) || !/^jobs:/m.test(body)) continue;
    const line = text.slice(0, match.index).split('\n').length + 1;
    found.push({ where: `${file}:${line}`, text: body });
  }
  return found;
}

const shown = MARKDOWN.flatMap(pipelinesIn);

let redis: TestRedis;
let chainr: ChainrProcess & { url: string };

beforeAll(async () => {
  redis = await startRedis();
  chainr = await startHttpService('up', { REDIS_URL: redis.url });
}, 60_000);
afterAll(async () => {
  await chainr?.kill();
  await redis?.stop();
});

describe('the pipelines the docs show', () => {
  it('are found: the README and docs/ show some', () => {
    expect(shown.map((p) => p.where)).toContain('README.md:10');
    expect(shown.length).toBeGreaterThanOrEqual(5);
  });

  it.each(shown.map((p) => [p.where, p.text]))('%s runs as shown', async (_where, text) => {
    const res = await fetch(`${chainr.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: text,
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const run = (await res.json()) as RunBody;
    const uid = run.metadata.uid;
    // A pipeline shown running for minutes is shown to be canceled: so it is, after a while.
    const ended = await waitForEnd(chainr.url, uid, 20_000).catch(async () => {
      await fetch(`${chainr.url}/api/runs/${uid}/cancel`, { method: 'POST' });
      return waitForEnd(chainr.url, uid);
    });
    const missing = ended.jobs.filter((j) => j.exitCode === 127).map((j) => j.name);
    expect(missing, 'jobs whose command does not exist').toEqual([]);
  });
});

describe('examples/', () => {
  const files = readdirSync(new URL('examples/', ROOT)).filter((f) => /\.(ya?ml|json)$/.test(f));

  it('holds valid pipelines, each with a metadata.name, its folders included', () => {
    const everyFile = readdirSync(new URL('examples/', ROOT), {
      recursive: true,
      encoding: 'utf8',
    }).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(everyFile.filter((f) => f.includes('/')).length).toBeGreaterThan(0);
    for (const file of everyFile) {
      const text = readFileSync(new URL(`examples/${file}`, ROOT), 'utf8');
      const parsed = parsePipeline(text, file.endsWith('.json') ? 'json' : 'yaml');
      expect(parsed.ok ? parsed.pipeline.metadata?.name : parsed.errors, file).toMatch(/^[a-z]/);
    }
  });

  it("holds the web UI's examples: the Submit page reads them from there, none inline", () => {
    const source = readFileSync(new URL('ui/src/submit/examples.ts', ROOT), 'utf8');
    expect(source).not.toMatch(/kind: Pipeline/);
    const imported = [...source.matchAll(/examples\/([\w.-]+)\?raw/g)].map((m) => m[1]);
    expect(imported.sort()).toEqual(files.filter((f) => f !== 'nightly.yaml').sort());
  });
});

it("says on the README's first screen where jobs run: the local executor's host and user, the image unused, and how to use containers", () => {
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
  const firstScreen = readme.slice(0, readme.indexOf('## The two commands'));
  const prose = firstScreen.replace(/\*\*/g, '').replace(/\s+/g, ' ');
  expect(prose).toContain('local executor');
  expect(prose).toContain('on this machine, as the user who started chainr');
  expect(prose).toContain('`image` is not used');
  expect(prose).toContain('CHAINR_EXECUTOR=container npm start');
});
