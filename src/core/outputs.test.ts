import { describe, expect, it } from 'vitest';
import { MAX_OUTPUTS_BYTES, outputEnvName, outputsEnv, parseOutputs } from './outputs.ts';

describe('parseOutputs', () => {
  it('reads key=value lines', () => {
    expect(parseOutputs('version=1.2.3\nimage_tag=abc\n')).toEqual({
      ok: true,
      outputs: { version: '1.2.3', image_tag: 'abc' },
    });
  });

  it('keeps everything after the first "=" as the value, spaces included', () => {
    expect(parseOutputs('tag=x=y\nurl=http://h/?a=1&b=2\nempty=\nsp= a b ')).toEqual({
      ok: true,
      outputs: { tag: 'x=y', url: 'http://h/?a=1&b=2', empty: '', sp: ' a b ' },
    });
  });

  it('ignores blank lines, and reads CRLF line ends', () => {
    expect(parseOutputs('\n\na=1\r\n   \r\n\tb=2\r\n'.replace('\tb', 'b'))).toEqual({
      ok: true,
      outputs: { a: '1', b: '2' },
    });
    expect(parseOutputs('')).toEqual({ ok: true, outputs: {} });
  });

  it('keeps the last value of a key written twice', () => {
    expect(parseOutputs('a=1\na=2')).toEqual({ ok: true, outputs: { a: '2' } });
  });

  it.each([
    ['a line without "="', 'a=1\njust text\n', 2, 'just text'],
    ['an empty key', '=value', 1, '=value'],
    ['a key with a dash', 'image-tag=1', 1, 'image-tag=1'],
    ['a key with a dot', 'image.tag=1', 1, 'image.tag=1'],
    ['a key starting with a digit', '1a=1', 1, '1a=1'],
    ['a key with a space', 'a b=1', 1, 'a b=1'],
  ])('rejects %s, naming the line', (_what, text, line, shown) => {
    const result = parseOutputs(text);
    expect(result).toEqual({
      ok: false,
      error: `outputs line ${line} is not key=value with a key of letters, digits and '_': ${JSON.stringify(shown)}`,
    });
  });

  it('accepts exactly 4 KiB and rejects more, counting bytes not characters', () => {
    const exact = `k=${'x'.repeat(MAX_OUTPUTS_BYTES - 2)}`;
    expect(MAX_OUTPUTS_BYTES).toBe(4096);
    expect(parseOutputs(exact).ok).toBe(true);
    expect(parseOutputs(`${exact}\n`)).toEqual({
      ok: false,
      error: 'outputs are 4097 bytes, more than the limit of 4096',
    });
    // 2100 two-byte characters: 4202 bytes in 2102 characters.
    const wide = `k=${'é'.repeat(2100)}`;
    expect(parseOutputs(wide)).toEqual({
      ok: false,
      error: 'outputs are 4202 bytes, more than the limit of 4096',
    });
  });
});

describe('outputEnvName', () => {
  it('upper-cases job and key and replaces every other character by "_"', () => {
    expect(outputEnvName('build', 'version')).toBe('CHAINR_BUILD_VERSION');
    expect(outputEnvName('build', 'image_tag')).toBe('CHAINR_BUILD_IMAGE_TAG');
    expect(outputEnvName('build-app', 'image.tag')).toBe('CHAINR_BUILD_APP_IMAGE_TAG');
    expect(outputEnvName('build-app', 'image_tag')).toBe('CHAINR_BUILD_APP_IMAGE_TAG');
    expect(outputEnvName('1st', 'camelCase')).toBe('CHAINR_1ST_CAMELCASE');
  });

  it('gives a job the outputs of its dependencies as variables', () => {
    expect(
      outputsEnv({ build: { version: '1.2.3', image_tag: 'x=y' }, 'lint-go': { ok: 'yes' } }),
    ).toEqual({
      CHAINR_BUILD_VERSION: '1.2.3',
      CHAINR_BUILD_IMAGE_TAG: 'x=y',
      CHAINR_LINT_GO_OK: 'yes',
    });
    expect(outputsEnv({})).toEqual({});
  });
});
