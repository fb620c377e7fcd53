/**
 * What a service loads as it starts: the modules its entry imports statically, followed through
 * the sources. The heavy ones (the validator, the archive drivers, the notification media, the
 * cloud clients) are imported when configuration asks for them, so that each service starts
 * without paying for what it does not run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../', import.meta.url));
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** The packages a module loads, through every module it imports statically. */
function packagesLoaded(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec = ''] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (spec.startsWith('.')) {
        const path = resolve(dirname(file), spec);
        if (existsSync(path) && path.endsWith('.ts')) visit(path);
      } else if (!spec.startsWith('node:'))
        packages.add(
          spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
  };
  visit(resolve(SRC, entry));
  return packages;
}

// (the yaml package stays: the tokens file is YAML)
const VALIDATOR = ['ajv', 'js-yaml'];
const ARCHIVE = ['kysely', 'pg', 'better-sqlite3'];
const ELSEWHERE = ['@kubernetes/client-node', '@aws-sdk/client-s3', 'nodemailer', 'undici'];

describe('modules loaded at start', () => {
  it.each([
    ['config.ts', [...VALIDATOR, ...ARCHIVE, ...ELSEWHERE]],
    ['services/runtime.ts', [...VALIDATOR, ...ARCHIVE, ...ELSEWHERE]],
    ['services/gate/service.ts', [...VALIDATOR, ...ARCHIVE, ...ELSEWHERE]],
    ['services/work/runtime.ts', [...VALIDATOR, ...ARCHIVE, ...ELSEWHERE]],
    ['services/recycle/service.ts', [...VALIDATOR, ...ARCHIVE, ...ELSEWHERE]],
    ['services/sched/service.ts', [...ARCHIVE, ...ELSEWHERE]],
  ])('%s loads none of %j', (entry, heavy) => {
    const loaded = packagesLoaded(entry);
    expect(loaded.size).toBeGreaterThan(0);
    expect(heavy.filter((name) => loaded.has(name))).toEqual([]);
  });
});
