/**
 * Pipelines from text (JSON or YAML): parsed defensively (alias bombs, deep nesting, duplicate
 * keys, several documents), validated, and every error given the line and column of the node
 * it is about. Never throws.
 */
import { Composer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { CST, Document, Node } from 'yaml';
import type { ValidateOptions } from './check.ts';
import { checkPipeline, splitSubmission } from './check.ts';
import type { Issue } from './issues.ts';
import { toPipelineError } from './issues.ts';
import { checkJsonSyntax } from './json-syntax.ts';
import type { Pipeline, PipelineError, ValidationResult } from './types.ts';

export type PipelineFormat = 'json' | 'yaml';

/** Deeper documents are rejected (a pipeline needs 6 levels). */
export const MAX_DEPTH = 64;
/** Limit on alias expansions in YAML (see `maxAliasCount` of the yaml package). */
export const MAX_ALIAS_COUNT = 100;

interface Parsed {
  doc: Document.Parsed;
  lines: LineCounter;
}

function position(lines: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function fail(message: string, lines: LineCounter, offset: number): ValidationResult {
  return { ok: false, errors: [{ path: '', message, ...position(lines, offset) }] };
}

/** The depth of collections in a YAML token tree, walked without recursion. */
function tooDeep(tokens: CST.Token[]): number | undefined {
  const stack: [CST.Token | null | undefined, number][] = tokens.map((t) => [t, 0]);
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [token, depth] = item;
    if (!token) continue;
    if (token.type === 'document') stack.push([token.value, depth]);
    else if (
      token.type === 'block-map' ||
      token.type === 'block-seq' ||
      token.type === 'flow-collection'
    ) {
      if (depth + 1 > MAX_DEPTH) return token.offset;
      for (const entry of token.items) stack.push([entry.key, depth + 1], [entry.value, depth + 1]);
    }
  }
  return undefined;
}

/** Parses YAML (or JSON, which is YAML) into one document, or the first problem. */
function parseYaml(text: string, merge: boolean): Parsed | ValidationResult {
  const lines = new LineCounter();
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const deep = tooDeep(tokens);
  if (deep !== undefined)
    return fail(`the document is nested deeper than ${MAX_DEPTH} levels`, lines, deep);
  const composer = new Composer({
    version: '1.2',
    schema: 'core',
    merge,
    uniqueKeys: true,
    strict: true,
  });
  const docs = Array.from(composer.compose(tokens, true, text.length));
  const [doc, second] = docs;
  if (second) {
    const message = 'a pipeline must be a single YAML document, but a second one starts here';
    return fail(message, lines, second.range[0]);
  }
  if (!doc || doc.contents === null) return fail('the document is empty', lines, 0);
  return { doc, lines };
}

/** Where a path points in a document: its closest existing node, as an offset. */
function locate(doc: Document.Parsed, issue: Issue): number {
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

function result(
  value: unknown,
  options: ValidateOptions,
  locator: () => Parsed | undefined,
): ValidationResult {
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
  const parsed = locator();
  const errors: PipelineError[] = issues.map((issue) => {
    const error = toPipelineError(issue);
    return parsed ? { ...error, ...position(parsed.lines, locate(parsed.doc, issue)) } : error;
  });
  return { ok: false, errors };
}

function parseJsonText(text: string, options: ValidateOptions): ValidationResult {
  const source = text.startsWith('\uFEFF') ? ` ${text.slice(1)}` : text;
  const problem = checkJsonSyntax(source, MAX_DEPTH);
  if (problem) {
    const lines = new LineCounter();
    lines.addNewLine(0);
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1))
      lines.addNewLine(i + 1);
    return fail(`invalid JSON: ${problem.message}`, lines, problem.offset);
  }
  const value: unknown = JSON.parse(source);
  return result(value, options, () => {
    const parsed = parseYaml(source, false);
    return 'doc' in parsed ? parsed : undefined;
  });
}

function parseYamlText(text: string, options: ValidateOptions): ValidationResult {
  const parsed = parseYaml(text, true);
  if (!('doc' in parsed)) return parsed;
  const { doc, lines } = parsed;
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
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
  return result(value, options, () => parsed);
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
