// @vitest-environment node
import { describe, expect, it } from 'vitest';
import {
  filterFromSearch,
  filterToSearch,
  isFiltered,
  selectorProblem,
  supportedFilter,
} from './filters.ts';

describe('run filters in the address', () => {
  it('round-trips, ignoring what is not a filter', () => {
    const filter = filterFromSearch(
      '?status=failed&name=nightly&selector=app%3Detl%2Ctier!%3Ddev&x=1',
    );
    expect(filter).toEqual({ status: 'FAILED', name: 'nightly', selector: 'app=etl,tier!=dev' });
    expect(filterFromSearch(`?${filterToSearch(filter)}`)).toEqual(filter);
    expect(filterFromSearch('?status=BOGUS&name=%20')).toEqual({});
    expect(isFiltered({})).toBe(false);
  });

  it('keeps only what the server supports', () => {
    const filter = { status: 'RUNNING' as const, name: 'n', selector: 'a=b' };
    expect(supportedFilter(filter, { status: true, name: false, selector: false })).toEqual({
      status: 'RUNNING',
    });
  });
});

describe('selectorProblem', () => {
  it('accepts equality, inequality and existence requirements', () => {
    for (const ok of [
      'app=etl',
      'app==etl,tier!=dev',
      'critical',
      '!legacy',
      'chainr.io/schedule=01a2-b3',
      'a = b',
    ])
      expect(selectorProblem(ok)).toBeUndefined();
  });
  it('says what is wrong', () => {
    expect(selectorProblem('app=etl,')).toBe('empty requirement between commas');
    expect(selectorProblem('app=e tl')).toMatch(/"app=e tl" is not/);
  });
});
