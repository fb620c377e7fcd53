/** The field table is the run hash's one list: the Lua transitions name no field outside it. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JOB_FIELDS, RUN_FIELDS, SPEC_FIELDS } from './run-hash.ts';

const dir = new URL('./lua/', import.meta.url);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.lua'))
  .map((name) => ({ name, source: readFileSync(new URL(name, dir), 'utf8') }));

/** The arguments of each hash command on the run hash (`run.key`), parentheses balanced. */
function runHashCalls(source: string): string[] {
  const calls: string[] = [];
  const start = /redis\.call\('H(?:SET|GET|MGET|DEL|INCRBY)', run\.key,/g;
  for (let m = start.exec(source); m; m = start.exec(source)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < source.length && depth > 0; i++) {
      if (source[i] === '(') depth++;
      if (source[i] === ')') depth--;
    }
    calls.push(source.slice(m.index + m[0].length, i - 1));
  }
  return calls;
}

describe('the run hash field table', () => {
  it.each(scripts)('lists every job field $name names', ({ source }) => {
    const named = [...source.matchAll(/'\.([A-Za-z]+)'/g)].map((m) => m[1]);
    const listed = [...Object.keys(JOB_FIELDS), ...Object.keys(SPEC_FIELDS)];
    expect(named.filter((f) => !listed.includes(f as string))).toEqual([]);
  });

  it.each(scripts)('lists every run field $name reads or writes', ({ source }) => {
    const named = runHashCalls(source).flatMap((args) =>
      // A field or a value; a field names no job (`name .. '.status'`) and is a lowercase word.
      [...args.matchAll(/(?<!\.\.\s*)'([a-z][A-Za-z]*)'/g)].map((m) => m[1] as string),
    );
    expect(named.filter((f) => !(f in RUN_FIELDS))).toEqual([]);
  });

  it('reads the fields out of a script (the check above reads something)', () => {
    const source = "redis.call('HSET', run.key, 'bogus', name .. '.status', 'x', tostring(('y')))";
    expect(runHashCalls(source)).toEqual([" 'bogus', name .. '.status', 'x', tostring(('y'))"]);
    const named = scripts.flatMap(({ source }) => runHashCalls(source)).join(' ');
    for (const field of ['status', 'done', 'active', 'held', 'failedJobs'])
      expect(named).toContain(`'${field}'`);
  });

  it.each(scripts)('$name names the table in its header', ({ name, source }) => {
    if (name === 'includes.lua') expect(source).toContain('src/store/run-hash.ts');
    else expect(source.split(']]')[0]).toContain('Run hash fields: src/store/run-hash.ts');
  });
});
