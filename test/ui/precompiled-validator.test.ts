/** The UI's eval-free pipeline validator says exactly what the API's ajv validator says. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { expect, it } from 'vitest';
import { SCHEMA_OPTIONS } from '../../src/core/schema.ts';
import { stubSource } from '../../ui/precompiled-validator.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const schema = JSON.parse(
  readFileSync(join(repo, 'src/core/pipeline.schema.json'), 'utf8'),
) as Record<string, unknown>;

type Validate = ((value: unknown) => boolean) & { errors?: unknown };

it('validates like ajv does, without compiling code at run time', async () => {
  const source = stubSource();
  expect(source).not.toMatch(/new Function|eval\(|require\(/);
  // Beside the repository's node_modules, so that any import in it resolves.
  const dir = join(repo, 'test-results', 'precompiled');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `validator-${process.pid}.mjs`);
  writeFileSync(file, source);
  const stub = (await import(pathToFileURL(file).href)) as { Ajv: new () => Ajv };
  const precompiled = new stub.Ajv().compile(schema) as Validate;
  const reference = new Ajv(SCHEMA_OPTIONS).compile(schema) as Validate;

  const documents: unknown[] = [
    JSON.parse(readFileSync(join(repo, 'examples/seed.json'), 'utf8')),
    { kind: 'Pipeline', jobs: {} },
    { kind: 'Pipeline', jobs: { 'Bad Name': { image: 1, run: 'x', extra: true } } },
    {
      kind: 'Pipeline',
      metadata: { name: '𝒳'.repeat(300) },
      jobs: { a: { image: 'x', run: 'y' } },
    },
    { kind: 'Nope' },
    [],
    'text',
  ];
  for (const doc of documents) {
    expect(precompiled(doc), JSON.stringify(doc).slice(0, 60)).toBe(reference(doc));
    expect(precompiled.errors).toEqual(reference.errors);
  }
  expect(() => new stub.Ajv().compile({ title: 'another schema' })).toThrow(
    /another pipeline schema/,
  );
});
