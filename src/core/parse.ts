/**
 * Pipelines from text (JSON or YAML): parsed defensively (alias bombs, deep nesting, duplicate
 * keys, several documents), validated, and every error given the line and column of the node
 * it is about. Never throws. Every step is linear in the text: its size is counted (depth,
 * entries of one collection, values in all) as it is read, and reading stops at the first
 * limit passed; positions are worked out only for the errors found.
 */
import { LineCounter } from 'yaml';
import type { ValidateOptions } from './check.ts';
import { checkPipeline, splitSubmission } from './check.ts';
import type { Issue } from './issues.ts';
import { toPipelineError } from './issues.ts';
import { locateJsonIssues } from './json-locate.ts';
import { MAX_DEPTH, MAX_ENTRIES, MAX_NODES } from './limits.ts';
import { checkJsonSyntax } from './json-syntax.ts';
import type { Pipeline, PipelineError, ValidationResult } from './types.ts';
import { locateYamlIssues, readYaml } from './yaml-read.ts';

export type PipelineFormat = 'json' | 'yaml';

function position(lines: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function fail(message: string, lines: LineCounter, offset: number): ValidationResult {
  return { ok: false, errors: [{ path: '', message, ...position(lines, offset) }] };
}

/** Where the lines of a text start, found when an error is to be located. */
function lineCounter(text: string): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1))
    counter.addNewLine(i + 1);
  return counter;
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
  const lines = () => lineCounter(source);
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
  const limits = { maxDepth: MAX_DEPTH, maxEntries: MAX_ENTRIES, maxNodes: MAX_NODES };
  const read = readYaml(text, limits);
  if (!read.ok) {
    const { message, offset } = read.problem;
    const unquoted = message.startsWith('invalid YAML') && unquotedExpression(text, offset);
    if (unquoted) {
      const hint = `quote this value: "${unquoted.value.replaceAll('"', '\\"')}"`;
      const said = `invalid YAML: \${{ ... }} unquoted inside { } or [ ] is read as YAML braces; ${hint}`;
      return fail(said, lineCounter(text), unquoted.offset);
    }
    return fail(message, lineCounter(text), offset);
  }
  return result(read.value, options, () => ({
    offsets: (issues) => locateYamlIssues(read, issues),
    lines: lineCounter(text),
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
