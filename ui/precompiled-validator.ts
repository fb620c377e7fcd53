/**
 * A Vite plugin that gives the UI the pipeline validator without `eval`: chainr serves the UI
 * with `script-src 'self'` (no 'unsafe-eval'), but ajv compiles schemas into functions at run
 * time. For the browser build, the `ajv` that src/core/schema.ts imports is replaced by a stub
 * whose `compile` returns the same validator, generated here at build time as plain code
 * (ajv's standalone mode) from the same schema with the same options.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import type { Plugin } from 'vite';
import { SCHEMA_OPTIONS } from '../src/core/schema.ts';

const SCHEMA = fileURLToPath(new URL('../src/core/pipeline.schema.json', import.meta.url));
const STUB = '\0chainr:precompiled-ajv';

/** Runtime helpers standalone code may `require`, as browser-ready code. */
const HELPERS: Record<string, { name: string; code: string }> = {
  'require("ajv/dist/runtime/ucs2length").default': {
    name: '__ucs2length',
    code: `function __ucs2length(str) {
  const len = str.length;
  let length = 0;
  let pos = 0;
  while (pos < len) {
    length++;
    const value = str.charCodeAt(pos++);
    if (value >= 0xd800 && value <= 0xdbff && pos < len && (str.charCodeAt(pos) & 0xfc00) === 0xdc00) pos++;
  }
  return length;
}`,
  },
  'require("ajv/dist/runtime/equal").default': {
    name: '__equal',
    code: `import __equal from 'fast-deep-equal';`,
  },
};

export function stubSource(): string {
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ ...SCHEMA_OPTIONS, code: { source: true, esm: true } });
  // A CommonJS module: its default export arrives wrapped or not, depending on the loader.
  type Generate = (ajv: Ajv, validate: unknown) => string;
  const module = standalone as unknown as Generate & { default?: Generate };
  const generate = module.default ?? module;
  let code = generate(ajv, ajv.compile(schema));
  const exported = /export default (\w+);/.exec(code)?.[1];
  if (!exported) throw new Error('ajv standalone code has no default export');
  code = code.replace(/export const validate = \w+;/, '').replace(/export default \w+;/, '');
  const imports: string[] = [];
  for (const [call, helper] of Object.entries(HELPERS)) {
    if (!code.includes(call)) continue;
    code = code.split(call).join(helper.name);
    imports.push(helper.code);
  }
  const leftover = /require\([^)]*\)/.exec(code);
  if (leftover) throw new Error(`ajv standalone code needs ${leftover[0]}: add it to HELPERS`);
  const title = JSON.stringify(schema['title']);
  return `${imports.filter((i) => i.startsWith('import')).join('\n')}
${imports.filter((i) => !i.startsWith('import')).join('\n')}
${code.replace(/^"use strict";/, '')}
export class Ajv {
  compile(schema) {
    if (schema.title !== ${title}) throw new Error('the UI was built for another pipeline schema');
    return ${exported};
  }
}
export default Ajv;
`;
}

export function precompiledPipelineValidator(): Plugin {
  return {
    name: 'chainr:precompiled-pipeline-validator',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'ajv' && importer && /src[\\/]core[\\/]schema\.ts$/.test(importer))
        return STUB;
      return null;
    },
    load(id) {
      if (id !== STUB) return null;
      this.addWatchFile(SCHEMA);
      return stubSource();
    },
  };
}
