import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectKeyValue, positiveInteger, runStatus } from './args.ts';

describe('collectKeyValue', () => {
  it('collects key=value pairs across repeated options; values may hold =', () => {
    const first = collectKeyValue('a=1');
    expect(collectKeyValue('b=x=y', first)).toEqual({ a: '1', b: 'x=y' });
    expect(collectKeyValue('a=', first)).toEqual({ a: '' });
  });
  it('rejects a pair without a key or without =', () => {
    expect(() => collectKeyValue('novalue')).toThrow(InvalidArgumentError);
    expect(() => collectKeyValue('=v')).toThrow(/expected key=value/);
  });
  it('keeps __proto__ as a plain key', () => {
    const pairs = collectKeyValue('__proto__=x');
    expect(Object.keys(pairs)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(pairs)).toBe(Object.prototype);
  });
});

describe('positiveInteger and runStatus', () => {
  it('accept what they name, in any case for statuses', () => {
    expect(positiveInteger('20')).toBe(20);
    expect(() => positiveInteger('0')).toThrow(InvalidArgumentError);
    expect(() => positiveInteger('2.5')).toThrow(InvalidArgumentError);
    expect(runStatus('failed')).toBe('FAILED');
    expect(() => runStatus('SKIPPED')).toThrow(/PENDING, RUNNING/);
  });
});
