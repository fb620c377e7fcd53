/**
 * Pipelines from text (JSON or YAML): parsed defensively (alias bombs, deep nesting, duplicate
 * keys, several documents), validated, and every error given the line and column of the node
 * it is about. Never throws. Every step is linear in the text: its size is counted (depth,
 * entries of one collection, values in all) on the token stream before anything is built.
 */
import { Composer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { CST, Document, Node } from 'yaml';
import type { ValidateOptions } from './check.ts';
import { checkPipeline, splitSubmission } from './check.ts';
import type { Issue } from './issues.ts';
import { toPipelineError } from './issues.ts';
import { locateJsonIssues, offsetInScalar } from './json-locate.ts';
import { checkJsonSyntax } from './json-syntax.ts';
import type { Pipeline, PipelineError, ValidationResult } from './types.ts';

export type PipelineFormat = 'json' | 'yaml';

/** Deeper documents are rejected (a pipeline needs 6 levels). */
export const MAX_DEPTH = 64;
/** Limit on alias expansions in YAML (see `maxAliasCount` of the yaml package). */
export const MAX_ALIAS_COUNT = 100;
/** Entries of one map or sequence: the most jobs a pipeline may be configured to have. */
export const MAX_ENTRIES = 10_000;
/** Values in a whole document: 10,000 jobs of a dozen values each, and room to spare. */
export const MAX_NODES = 200_000;

interface Parsed {
  doc: Document.Parsed;
  lines: LineCounter;
  text: string;
}

function position(lines: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function fail(message: string, lines: LineCounter, offset: number): ValidationResult {
  return { ok: false, errors: [{ path: '', message, ...position(lines, offset) }] };
}

/** The first counting limit a YAML token tree exceeds (depth, entries, values), walked without recursion. */
function overLimit(tokens: CST.Token[]): { offset: number; message: string } | undefined {
  const stack: [CST.Token | null | undefined, number][] = tokens.map((t) => [t, 0]);
  let nodes = 0;
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [token, depth] = item;
    if (!token) continue;
    if (token.type === 'document') stack.push([token.value, depth]);
    else if (
      token.type === 'block-map' ||
      token.type === 'block-seq' ||
      token.type === 'flow-collection'
    ) {
      const { offset, items } = token;
      if (depth + 1 > MAX_DEPTH)
        return { offset, message: `the document is nested deeper than ${MAX_DEPTH} levels` };
      if (items.length > MAX_ENTRIES)
        return { offset, message: `a map or list has more than ${MAX_ENTRIES} entries` };
      nodes += items.length;
      if (nodes > MAX_NODES)
        return { offset, message: `the document has more than ${MAX_NODES} values` };
      for (const entry of items) stack.push([entry.key, depth + 1], [entry.value, depth + 1]);
    }
  }
  return undefined;
}

/**
 * The first key repeated in a map, found with a set per map (the yaml package's own check
 * compares each key with every earlier one: quadratic). Merge keys (`<<`) may repeat.
 */
function duplicateKey(doc: Document.Parsed, merge: boolean): Node | undefined {
  const stack: unknown[] = [doc.contents];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (seen.has(key) && !(merge && key === '<<')) return pair.key;
          seen.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) stack.push(...node.items);
  }
  return undefined;
}

/** Parses YAML (or JSON, which is YAML) into one document, or the first problem. */
function parseYaml(text: string, merge: boolean): Parsed | ValidationResult {
  const lines = new LineCounter();
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const over = overLimit(tokens);
  if (over !== undefined) return fail(over.message, lines, over.offset);
  const composer = new Composer({
    version: '1.2',
    schema: 'core',
    merge,
    uniqueKeys: false,
    strict: true,
  });
  const docs = Array.from(composer.compose(tokens, true, text.length));
  const [doc, second] = docs;
  if (second) {
    const message = 'a pipeline must be a single YAML document, but a second one starts here';
    return fail(message, lines, second.range[0]);
  }
  if (!doc || doc.contents === null) return fail('the document is empty', lines, 0);
  const repeated = duplicateKey(doc, merge);
  if (repeated !== undefined)
    return fail('invalid YAML: Map keys must be unique', lines, repeated.range?.[0] ?? 0);
  return { doc, lines, text };
}

/** Where a path points in a document: its closest existing node, as an offset. */
function locate({ doc, text }: Parsed, issue: Issue): number {
  const path = issue.at ?? issue.path;
  let node: unknown = doc.contents;
  let offset = doc.contents?.range[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node) && typeof segment === 'string') {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      const pointAtValue = value && (isScalar(value) || isAlias(value)) && !(last && issue.atKey);
      offset = (pointAtValue ? value.range?.[0] : key.range?.[0]) ?? offset;
      if (last && issue.offset !== undefined && isScalar(value) && value.range) {
        const [start, end] = value.range;
        const inside = offsetInScalar(text.slice(start, end), String(value.value), issue.offset);
        if (inside !== undefined) offset = start + inside;
      }
      node = value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

/** Where a document's issues are, as offsets, and how offsets become lines and columns. */
type Locator = () => { offsets: (issues: Issue[]) => number[]; lines: LineCounter };

function result(value: unknown, options: ValidateOptions, locator: Locator): ValidationResult {
  const issues = checkPipeline(value, options);
  if (issues.length === 0) {
    const { pipeline, params, envelope } = splitSubmission(value, options);
    return {
      ok: true,
      pipeline: pipeline as Pipeline,
      ...(params !== undefined && { params: params as Record<string, string> }),
      ...(Object.keys(envelope).length > 0 && { envelope }),
    };
  }
  const { offsets, lines } = locator();
  const at = offsets(issues);
  const errors: PipelineError[] = issues.map((issue, i) => ({
    ...toPipelineError(issue),
    ...position(lines, at[i] ?? 0),
  }));
  return { ok: false, errors };
}

function parseJsonText(text: string, options: ValidateOptions): ValidationResult {
  const source = text.startsWith('\uFEFF') ? ` ${text.slice(1)}` : text;
  const lines = () => {
    const counter = new LineCounter();
    counter.addNewLine(0);
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1))
      counter.addNewLine(i + 1);
    return counter;
  };
  const limits = { maxDepth: MAX_DEPTH, maxEntries: MAX_ENTRIES, maxNodes: MAX_NODES };
  const problem = checkJsonSyntax(source, limits);
  if (problem) return fail(`invalid JSON: ${problem.message}`, lines(), problem.offset);
  const value: unknown = JSON.parse(source);
  return result(value, options, () => ({
    offsets: (issues) => locateJsonIssues(source, issues, MAX_DEPTH),
    lines: lines(),
  }));
}

function parseYamlText(text: string, options: ValidateOptions): ValidationResult {
  const parsed = parseYaml(text, true);
  if (!('doc' in parsed)) return parsed;
  const { doc, lines } = parsed;
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const unquoted = unquotedExpression(text, problems[0]?.pos[0] ?? 0);
    if (unquoted) {
      const hint = `quote this value: "${unquoted.value.replaceAll('"', '\\"')}"`;
      const message = `invalid YAML: \${{ ... }} unquoted inside { } or [ ] is read as YAML braces; ${hint}`;
      return fail(message, lines, unquoted.offset);
    }
    const errors = problems.map((p) => ({
      path: '',
      message: `invalid YAML: ${p.message.split('\n')[0] ?? p.code}`,
      ...position(lines, p.pos[0]),
    }));
    return { ok: false, errors };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`invalid YAML: ${reason}`, lines, doc.contents?.range[0] ?? 0);
  }
  return result(value, options, () => ({
    offsets: (issues) => issues.map((issue) => locate(parsed, issue)),
    lines,
  }));
}

/**
 * An unquoted `${{ ... }}` on the line of the first YAML error, in a flow collection (`{ run: echo
 * ${{ params.x }} }`): YAML reads its braces as a mapping, and reports a handful of errors that
 * say nothing of the cause. Answers the value's start and text.
 */
function unquotedExpression(
  text: string,
  errorOffset: number,
): { offset: number; value: string } | undefined {
  const lineStart = text.lastIndexOf('\n', errorOffset - 1) + 1;
  const lineEnd = text.indexOf('\n', errorOffset);
  const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  const at = line.indexOf('${{');
  if (at === -1 || !/[{[]/.test(line.slice(0, at))) return undefined;
  // the value starts after the last `key: `, `,`, `{` or `[` before the expression
  const prefix = line.slice(0, at);
  const after = Math.max(
    ...[': ', ',', '{', '['].map((mark) => {
      const found = prefix.lastIndexOf(mark);
      return found === -1 ? -1 : found + mark.length;
    }),
  );
  let start = after;
  while (line[start] === ' ') start++;
  if (/["']/.test(line.slice(start, at))) return undefined; // quoted: not this case
  const close = line.indexOf('}}', at);
  const end = close === -1 ? line.length : close + 2;
  const rest = /^[^,}\]]*/.exec(line.slice(end))?.[0] ?? '';
  return { offset: lineStart + start, value: (line.slice(start, end) + rest).trim() };
}

/** Parses a pipeline from JSON or YAML text and validates it; errors carry line and column. */
export function parsePipeline(
  text: string,
  format: PipelineFormat,
  options: ValidateOptions = {},
): ValidationResult {
  try {
    if (text.trim() === '' || text.trim() === '\uFEFF') {
      return {
        ok: false,
        errors: [{ path: '', message: 'the document is empty', line: 1, column: 1 }],
      };
    }
    return format === 'json' ? parseJsonText(text, options) : parseYamlText(text, options);
  } catch (error) {
    // A safety net: nothing above is expected to throw, but a server must never crash on input.
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      errors: [{ path: '', message: `the document could not be read: ${reason}` }],
    };
  }
}
