// @vitest-environment node
import { describe, expect, it } from 'vitest';
import {
  applySgr,
  parseAnsiLine,
  parseAnsiLines,
  stripAnsi,
  styleProps,
  xterm256,
} from './ansi.ts';

const ESC = '\x1b';

describe('parseAnsiLine', () => {
  it('turns SGR sequences into styled segments', () => {
    const { segments } = parseAnsiLine(`ok ${ESC}[1;32mPASS${ESC}[0m done`);
    expect(segments).toEqual([
      { text: 'ok ', style: {} },
      { text: 'PASS', style: { bold: true, fg: 2 } },
      { text: ' done', style: {} },
    ]);
  });

  it('knows bright, 256 and true colours, and resets of each attribute', () => {
    expect(applySgr({}, '91;104')).toEqual({ fg: 9, bg: 12 });
    expect(applySgr({}, '38;5;208')).toEqual({ fg: 208 });
    expect(applySgr({}, '48;2;255;128;0')).toEqual({ bg: '#ff8000' });
    expect(applySgr({ bold: true, fg: 1, underline: true }, '22;39')).toEqual({ underline: true });
    expect(applySgr({ fg: 1 }, '')).toEqual({});
  });

  it('drops other escape sequences and control characters, keeping tabs', () => {
    expect(stripAnsi(`${ESC}[2K${ESC}[1Gline${ESC}]0;title\x07\twith\x07bell`)).toBe(
      'line\twithbell',
    );
    expect(stripAnsi(`${ESC}[?25lhidden cursor${ESC}[?25h`)).toBe('hidden cursor');
  });

  it('shows what a progress bar ends with after carriage returns', () => {
    expect(stripAnsi('10%\r50%\r100%')).toBe('100%');
    expect(stripAnsi('done\r')).toBe('done');
  });

  it('carries a style from one line to the next, as a terminal does', () => {
    const lines = parseAnsiLines([`${ESC}[31mred starts`, 'still red', `${ESC}[0mplain`]);
    expect(lines[1]).toEqual([{ text: 'still red', style: { fg: 1 } }]);
    expect(lines[2]).toEqual([{ text: 'plain', style: {} }]);
  });

  it('never throws on malformed input', () => {
    for (const junk of [`${ESC}[`, `${ESC}[38;5m`, `${ESC}[38;2;1m`, `${ESC}`, `${ESC}[999999999m`])
      expect(() => parseAnsiLine(junk)).not.toThrow();
  });
});

describe('styleProps', () => {
  it('uses classes for the 16 themed colours and inline colours for the rest', () => {
    expect(styleProps({})).toEqual({});
    expect(styleProps({ fg: 1, bold: true })).toEqual({ className: 'ansi-fg-1 ansi-bold' });
    expect(styleProps({ fg: 196, bg: '#102030' })).toEqual({
      color: '#ff0000',
      background: '#102030',
    });
    expect(styleProps({ inverse: true, fg: 2 })).toEqual({
      className: 'ansi-fg-default-bg ansi-bg-2',
    });
  });
  it('computes the xterm palette', () => {
    expect(xterm256(16)).toBe('#000000');
    expect(xterm256(231)).toBe('#ffffff');
    expect(xterm256(232)).toBe('#080808');
  });
});
