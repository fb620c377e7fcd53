/**
 * A strict JSON syntax check that says where the first problem is (JSON.parse's messages carry
 * no position on Node 20), and also rejects what JSON.parse lets through but a pipeline must
 * not have: duplicate keys (the last one would silently win) and excessive nesting.
 * Iterative: any input, however deep, is checked without recursion.
 */

export interface JsonSyntaxError {
  /** Offset in the text (UTF-16 code units). */
  offset: number;
  message: string;
}

type Expect = 'value' | 'value-or-end' | 'key' | 'key-or-end' | 'colon' | 'after';

/** An open array and its length so far, or an open object with the keys seen so far. */
type Frame = { array: true; length: number } | { array: false; keys: Set<string> };

/** Counting limits, checked as the text is scanned, before anything is built from it. */
export interface JsonLimits {
  maxDepth: number;
  /** Entries of one object or array. */
  maxEntries?: number;
  /** Values in the whole document. */
  maxNodes?: number;
}

/** Told of the document's structure as it is scanned (to locate paths in one pass). */
export interface JsonVisitor {
  /** A key of the innermost object, at the offset of its opening quote. */
  key(key: string, offset: number): void;
  /** A value starts: in an array, the next item; in an object, the last key's value. */
  value(offset: number, container: boolean): void;
  /** The innermost object or array ends. */
  end(): void;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

function describe(char: string): string {
  return JSON.stringify(char);
}

/** A run of characters that need no look inside a string: not a quote, backslash or control. */
// eslint-disable-next-line no-control-regex -- control characters are what it must stop at
const PLAIN = /[^"\\\u0000-\u001f]*/y;

/**
 * Scans a string token starting at the opening quote; returns its end (after the quote) and
 * whether it holds an escape.
 */
function scanString(
  text: string,
  start: number,
): { end: number; escaped: boolean } | JsonSyntaxError {
  let escaped = false;
  for (let i = start + 1; i < text.length; i++) {
    PLAIN.lastIndex = i;
    PLAIN.test(text);
    i = PLAIN.lastIndex;
    if (i >= text.length) break;
    const c = text.charCodeAt(i);
    if (c === 0x22) return { end: i + 1, escaped };
    if (c < 0x20)
      return { offset: i, message: 'control character in a string (escape it, e.g. \\n)' };
    escaped = true;
    const next = text.charAt(i + 1);
    if (next === 'u') {
      if (!HEX4.test(text.slice(i + 2, i + 6)))
        return { offset: i, message: 'invalid \\u escape in a string' };
      i += 5;
    } else if (ESCAPES.has(next)) i += 1;
    else return { offset: i, message: `invalid escape \\${next} in a string` };
  }
  return { offset: start, message: 'unterminated string' };
}

/** JSON's whitespace: space, tab, line feed, carriage return. */
const isSpace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

/** The first syntax problem of a JSON text or limit it exceeds, or undefined when it is valid JSON. */
export function checkJsonSyntax(
  text: string,
  limits: JsonLimits,
  visitor?: JsonVisitor,
): JsonSyntaxError | undefined {
  const { maxDepth, maxEntries = Infinity, maxNodes = Infinity } = limits;
  const stack: Frame[] = [];
  let nodes = 0;
  let expect: Expect = 'value';
  let i = 0;
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) {
      if (expect === 'after' && stack.length === 0) return undefined;
      return { offset: i, message: 'unexpected end of the document' };
    }
    const c = text.charAt(i);
    const top = stack[stack.length - 1];
    if (expect === 'after') {
      if (!top)
        return { offset: i, message: `unexpected ${describe(c)} after the end of the document` };
      const close = top.array ? ']' : '}';
      if (c === ',') expect = top.array ? 'value' : 'key';
      else if (c === close) {
        stack.pop();
        visitor?.end();
      } else return { offset: i, message: `expected ',' or '${close}' but found ${describe(c)}` };
      i++;
      continue;
    }
    if (expect === 'colon') {
      if (c !== ':')
        return { offset: i, message: `expected ':' after a key but found ${describe(c)}` };
      expect = 'value';
      i++;
      continue;
    }
    if (expect === 'key' || expect === 'key-or-end') {
      if (c === '}' && expect === 'key-or-end') {
        stack.pop();
        visitor?.end();
        expect = 'after';
        i++;
        continue;
      }
      if (c !== '"') {
        const trailing = c === '}' ? ' (a trailing comma is not allowed)' : '';
        return {
          offset: i,
          message: `expected a key in double quotes but found ${describe(c)}${trailing}`,
        };
      }
      const scanned = scanString(text, i);
      if (!('end' in scanned)) return scanned;
      const { end, escaped } = scanned;
      const key = escaped ? (JSON.parse(text.slice(i, end)) as string) : text.slice(i + 1, end - 1);
      if (top && !top.array) {
        if (top.keys.has(key))
          return { offset: i, message: `duplicate key ${JSON.stringify(key)}` };
        if (top.keys.size >= maxEntries)
          return { offset: i, message: `an object has more than ${maxEntries} keys` };
        top.keys.add(key);
      }
      visitor?.key(key, i);
      expect = 'colon';
      i = end;
      continue;
    }
    // a value is expected
    if (c === ']' && expect === 'value-or-end') {
      stack.pop();
      visitor?.end();
      expect = 'after';
      i++;
      continue;
    }
    expect = 'after';
    if (++nodes > maxNodes)
      return { offset: i, message: `the document has more than ${maxNodes} values` };
    if (top?.array && ++top.length > maxEntries)
      return { offset: i, message: `an array has more than ${maxEntries} items` };
    const container = c === '{' || c === '[';
    visitor?.value(i, container);
    if (container) {
      if (stack.length >= maxDepth) {
        return { offset: i, message: `the document is nested deeper than ${maxDepth} levels` };
      }
      stack.push(c === '[' ? { array: true, length: 0 } : { array: false, keys: new Set() });
      expect = c === '[' ? 'value-or-end' : 'key-or-end';
      i++;
    } else if (c === '"') {
      const scanned = scanString(text, i);
      if (!('end' in scanned)) return scanned;
      i = scanned.end;
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) {
        const trailing = c === ']' ? ' (a trailing comma is not allowed)' : '';
        return { offset: i, message: `expected a value but found ${describe(c)}${trailing}` };
      }
      i = NUMBER.lastIndex;
    }
  }
}
