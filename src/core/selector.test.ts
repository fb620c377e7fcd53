import { describe, expect, it } from 'vitest';
import { matches, parseSelector, type Requirement } from './selector.ts';

function parse(text: string): Requirement[] {
  const result = parseSelector(text);
  if (!result.ok) throw new Error(result.error);
  return result.requirements;
}

describe('parseSelector', () => {
  it('reads equality, inequality, existence and absence', () => {
    expect(parse('app=etl,tier!=dev')).toEqual([
      { key: 'app', op: '=', value: 'etl' },
      { key: 'tier', op: '!=', value: 'dev' },
    ]);
    expect(parse('critical')).toEqual([{ key: 'critical', op: 'exists' }]);
    expect(parse('!legacy')).toEqual([{ key: 'legacy', op: '!exists' }]);
    expect(parse('a==b')).toEqual([{ key: 'a', op: '=', value: 'b' }]);
  });

  it('allows spaces around terms and operators, empty terms and empty values', () => {
    expect(parse(' app = etl , tier != dev ,, critical ')).toEqual([
      { key: 'app', op: '=', value: 'etl' },
      { key: 'tier', op: '!=', value: 'dev' },
      { key: 'critical', op: 'exists' },
    ]);
    expect(parse('')).toEqual([]);
    expect(parse('a=')).toEqual([{ key: 'a', op: '=', value: '' }]);
  });

  it('accepts Kubernetes-style keys with prefixes', () => {
    expect(parse('app.kubernetes.io/name=web,chainr/schedule')).toEqual([
      { key: 'app.kubernetes.io/name', op: '=', value: 'web' },
      { key: 'chainr/schedule', op: 'exists' },
    ]);
  });

  it.each(['=etl', '!=dev', '!a=b', '!', 'a b=c', `${'k'.repeat(64)}=v`, 'a=b,!c=d', 'ké=v'])(
    'rejects %j, naming the term',
    (text) => {
      const result = parseSelector(text);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toMatch(
          /^selector term ".*" is not key=value, key!=value, key or !key$/,
        );
      }
    },
  );

  it('names the offending term in the error', () => {
    expect(parseSelector('app=etl,!x=y')).toEqual({
      ok: false,
      error: 'selector term "!x=y" is not key=value, key!=value, key or !key',
    });
  });
});

describe('matches', () => {
  const labels = { app: 'etl', tier: 'prod', critical: '' };
  const m = (text: string, l: Record<string, string> = labels) => matches(parse(text), l);

  it('requires every term', () => {
    expect(m('app=etl,tier!=dev')).toBe(true);
    expect(m('app=etl,tier=dev')).toBe(false);
    expect(m('app=etl,tier!=prod')).toBe(false);
  });

  it('!= matches a missing label, = does not', () => {
    expect(m('tier!=dev', { app: 'web' })).toBe(true);
    expect(m('tier=dev', { app: 'web' })).toBe(false);
  });

  it('existence and absence, an empty value counting as present', () => {
    expect(m('critical')).toBe(true);
    expect(m('!critical')).toBe(false);
    expect(m('legacy')).toBe(false);
    expect(m('!legacy')).toBe(true);
  });

  it('an empty selector matches everything', () => {
    expect(m('')).toBe(true);
    expect(m('', {})).toBe(true);
  });

  it('looks at own labels only', () => {
    expect(m('constructor', {})).toBe(false);
    expect(m('toString!=x', {})).toBe(true);
  });
});
