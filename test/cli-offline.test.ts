/**
 * What the chainr command line does without a server: checking pipeline files (the same errors as
 * the API, with file:line:column) and printing the schema. A real process each time.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/process/private-redis.ts';
import { runChainr, type CliResult } from './fixtures/cli.ts';

let dir: string;
/** Where no chainr listens: nothing here may need one. */
let nowhere: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chainr-cli-offline-'));
  nowhere = `http://127.0.0.1:${await freePort()}`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function chainr(args: string[]): Promise<CliResult> {
  return runChainr(args, { CHAINR_SERVER: nowhere });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('submit', () => {
  it('refuses an invalid file before sending it, with file:line:column for each error', async () => {
    const bad = file(
      'bad.yaml',
      'kind: Pipeline\njobs:\n  a:\n    image: busybox\n    run: "true"\n    dependsOn: [{ job: b }]\n',
    );
    const { code, stdout, stderr } = await chainr(['submit', '-f', bad]);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `chainr: ${bad} is not a valid pipeline (1 error); nothing was submitted\n` +
        `${bad}:6:24: jobs.a.dependsOn[0].job: unknown job "b"\n`,
    );
  });

  it('refuses an invalid file as a schedule too, before sending it', async () => {
    const bad = file('bad-schedule.yaml', 'kind: Pipeline\njobs:\n  a:\n    run: "true"\n');
    const { code, stdout, stderr } = await chainr([
      'schedules',
      'create',
      '-f',
      bad,
      '--cron',
      '0 3 * * *',
    ]);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      new RegExp(
        `^chainr: ${bad} is not a valid pipeline \\(1 error\\); no schedule was created\n${bad}:3:3: jobs\\.a`,
      ),
    );
  });
});

describe('validate and schema', () => {
  it('reports YAML and pipeline errors at their line and column and exits 1; valid files exit 0', async () => {
    const duplicate = file(
      'duplicate.yaml',
      'kind: Pipeline\njobs:\n  a:\n    image: busybox\n    image: alpine\n    run: "true"\n',
    );
    expect(await chainr(['validate', '-f', duplicate])).toMatchObject({
      code: 1,
      stdout: `${duplicate}:5:5: invalid YAML: duplicated mapping key\n`,
    });
    const typo = file(
      'typo.yaml',
      'kind: Pipeline\njobs:\n  a:\n    image: busybox\n    run: "true"\n    imgae: x\n',
    );
    expect(await chainr(['validate', '-f', typo])).toMatchObject({
      code: 1,
      stdout: `${typo}:6:5: jobs.a: unknown field "imgae"\n`,
    });
    const good = await chainr(['validate', 'examples/fallback.yaml', '-f', 'examples/seed.json']);
    expect(good).toMatchObject({
      code: 0,
      stdout:
        'examples/fallback.yaml: valid pipeline (4 jobs)\nexamples/seed.json: valid pipeline (4 jobs)\n',
    });
  });

  it('asks for a file when given none', async () => {
    expect(await chainr(['validate'])).toMatchObject({
      code: 3,
      stderr: 'chainr: no pipeline file given (chainr validate pipeline.yaml)\n',
    });
  });

  it('prints the pipeline JSON Schema', async () => {
    const { code, stdout } = await chainr(['schema']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(
      JSON.parse(readFileSync('src/core/pipeline.schema.json', 'utf8')),
    );
  });
});
