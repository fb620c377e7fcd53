import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { forEachSource, MAX_FOREACH_ITEMS, withItem } from './foreach.ts';
import { errors, job, withJobs } from './testing.fixture.ts';
import { validatePipeline } from './validate.ts';

describe('forEach', () => {
  it('reads its producer and key from the one form allowed', () => {
    expect(forEachSource('${{ jobs.list.outputs.files }}')).toEqual({ job: 'list', key: 'files' });
    expect(forEachSource('${{ jobs.list.outputs.files }} and more')).toBeUndefined();
  });

  it('gives an instance its item as CHAINR_ITEM and in image, env and argv', () => {
    const plan = {
      image: 'tool:${{ item }}',
      env: { FILE: 'in/${{item}}' },
      argv: ['convert', '${{ item }}'],
      item: 'a.csv',
    };
    expect(withItem(plan)).toEqual({
      image: 'tool:a.csv',
      env: { CHAINR_ITEM: 'a.csv', FILE: 'in/a.csv' },
      argv: ['convert', 'a.csv'],
      item: 'a.csv',
    });
    const plain = { image: 'x', env: {}, run: 'true' };
    expect(withItem(plain)).toBe(plain);
  });

  it('refuses a bad source, a producer that is not a plain dependency, a matrix beside it, a clashing name, a stray item', () => {
    const result = validatePipeline(
      withJobs({
        list: job(),
        a: job({ forEach: '${{ jobs.list.outputs.files }}x', dependsOn: [{ job: 'list' }] }),
        b: job({
          forEach: '${{ jobs.list.outputs.files }}',
          dependsOn: [{ anyOf: ['list', 'a'] }],
        }),
        c: job({
          forEach: '${{ jobs.list.outputs.files }}',
          dependsOn: [{ job: 'list' }],
          matrix: { n: ['1'] },
        }),
        'c-2': job(),
        d: job({ env: { F: '${{ item }}' } }),
      }),
    );
    expect(errors(result)).toEqual([
      'jobs.a.forEach: must be ${{ jobs.<name>.outputs.<key> }}: an output of one of its dependencies holding a JSON array',
      'jobs.b.forEach: reads job "list", which is not one of its dependencies: add { job: list } to its dependsOn (an either-of member does not count)',
      'jobs.c.forEach: a job has a matrix or a forEach, not both',
      'jobs.c.forEach: its instances are named c-0, c-1...; job "c-2" would clash: rename it',
      'jobs.d.env.F: ${{ item }} is the item of a forEach job: this job has no forEach',
    ]);
  });

  it('has the limit the transitions apply', () => {
    const lua = readFileSync(new URL('../store/lua/includes.lua', import.meta.url), 'utf8');
    expect(lua).toContain(`local MAX_FOREACH_ITEMS = ${MAX_FOREACH_ITEMS}\n`);
  });
});
