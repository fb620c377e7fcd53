/**
 * ANSI escape sequences in log lines, as styled text segments. Colours (16, 256 and 24-bit),
 * bold, dim, italic, underline and inverse are kept; every other control sequence is dropped.
 * Styles carry over from one line to the next, as in a terminal. Pure.
 */

export interface AnsiStyle {
  /** A palette index 0-255, or a `#rrggbb` colour. */
  fg?: number | string;
  bg?: number | string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface Segment {
  text: string;
  style: AnsiStyle;
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), other two-byte escapes, and C0 controls but
// tab and newline.
/* eslint-disable no-control-regex -- matching control characters is the point */
const ESCAPES =
  /\x1b\[([0-9;:?<=>]*)([ -/]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|[\x00-\x08\x0b-\x1f\x7f]/g;
/** Any control character that ESCAPES may match: most lines have none and need no parsing. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;
/* eslint-enable no-control-regex */

const hex = (n: number) => Math.max(0, Math.min(255, n)).toString(16).padStart(2, '0');

/** Applies one SGR (`ESC [ … m`) parameter list to a style. */
export function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  let next: AnsiStyle = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] ?? 0;
    if (code === 0) next = {};
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 22) {
      delete next.bold;
      delete next.dim;
    } else if (code === 23) delete next.italic;
    else if (code === 24) delete next.underline;
    else if (code === 27) delete next.inverse;
    else if (code >= 30 && code <= 37) next.fg = code - 30;
    else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
    else if (code === 39) delete next.fg;
    else if (code >= 40 && code <= 47) next.bg = code - 40;
    else if (code >= 100 && code <= 107) next.bg = code - 100 + 8;
    else if (code === 49) delete next.bg;
    else if (code === 38 || code === 48) {
      const key = code === 38 ? 'fg' : 'bg';
      const mode = codes[i + 1];
      if (mode === 5 && codes[i + 2] !== undefined) {
        next[key] = Math.max(0, Math.min(255, codes[i + 2] ?? 0));
        i += 2;
      } else if (mode === 2 && codes[i + 4] !== undefined) {
        next[key] = `#${hex(codes[i + 2] ?? 0)}${hex(codes[i + 3] ?? 0)}${hex(codes[i + 4] ?? 0)}`;
        i += 4;
      } else break;
    }
  }
  return next;
}

/** One line's segments and the style in force at its end. */
export function parseAnsiLine(
  line: string,
  start: AnsiStyle = {},
): { segments: Segment[]; end: AnsiStyle } {
  if (!CONTROL.test(line))
    return { segments: line === '' ? [] : [{ text: line, style: start }], end: start };
  const segments: Segment[] = [];
  let style = start;
  let last = 0;
  const push = (text: string) => {
    if (text === '') return;
    const previous = segments[segments.length - 1];
    if (previous && previous.style === style) previous.text += text;
    else segments.push({ text, style });
  };
  for (const match of line.matchAll(ESCAPES)) {
    push(line.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[3] === 'm' && match[2] === '' && !/[?<=>]/.test(match[1] ?? ''))
      style = applySgr(style, match[1] ?? '');
    // A carriage return starts the line over (progress bars), unless nothing follows it.
    else if (match[0] === '\r' && last < line.length) segments.length = 0;
  }
  push(line.slice(last));
  return { segments, end: style };
}

/** The text a line shows, without escape sequences (for search). */
export function stripAnsi(line: string): string {
  return parseAnsiLine(line)
    .segments.map((s) => s.text)
    .join('');
}

/** Segments for each line, the style of one line flowing into the next. */
export function parseAnsiLines(lines: readonly string[]): Segment[][] {
  let style: AnsiStyle = {};
  return lines.map((line) => {
    const parsed = parseAnsiLine(line, style);
    style = parsed.end;
    return parsed.segments;
  });
}

const isEmpty = (style: AnsiStyle) => Object.keys(style).length === 0;

/** CSS class names and inline colours for a style (palette colours become classes, for themes). */
export function styleProps(style: AnsiStyle): {
  className?: string;
  color?: string;
  background?: string;
} {
  if (isEmpty(style)) return {};
  const classes: string[] = [];
  let { fg, bg } = style;
  if (style.inverse) [fg, bg] = [bg ?? 'default-bg', fg ?? 'default-fg'];
  const colour = (value: number | string | undefined, kind: 'fg' | 'bg') => {
    if (value === undefined) return undefined;
    if (typeof value === 'number' && value < 16) {
      classes.push(`ansi-${kind}-${value}`);
      return undefined;
    }
    if (typeof value === 'number') return xterm256(value);
    if (value === 'default-bg' || value === 'default-fg') {
      classes.push(`ansi-${kind}-${value}`);
      return undefined;
    }
    return value;
  };
  const color = colour(fg, 'fg');
  const background = colour(bg, 'bg');
  if (style.bold) classes.push('ansi-bold');
  if (style.dim) classes.push('ansi-dim');
  if (style.italic) classes.push('ansi-italic');
  if (style.underline) classes.push('ansi-underline');
  return {
    ...(classes.length > 0 && { className: classes.join(' ') }),
    ...(color && { color }),
    ...(background && { background }),
  };
}

/** The xterm colour of a 256-palette index from 16 up. */
export function xterm256(index: number): string {
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return `#${hex(level)}${hex(level)}${hex(level)}`;
  }
  const n = index - 16;
  const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
  return `#${hex(level(Math.floor(n / 36)))}${hex(level(Math.floor(n / 6) % 6))}${hex(level(n % 6))}`;
}
