/**
 * Validation as you type, with the API's own parser and messages (src/core), and its errors
 * arranged by line for the editor. Pure.
 */
import { parse } from 'yaml';
import { parsePipeline } from '../../../src/core/validate.ts';
import type { Pipeline, PipelineError } from '../../../src/core/types.ts';

export type Format = 'json' | 'yaml';

/** JSON when the document starts with `{` or `[` (what JSON documents start with), else YAML. */
export function detectFormat(text: string): Format {
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'yaml';
}

export interface Checked {
  format: Format;
  pipeline?: Pipeline;
  errors: PipelineError[];
  /** The document as far as it can be read, valid or not, for a preview of its graph. */
  draft: unknown;
}

function readDraft(text: string): unknown {
  try {
    return parse(text, { uniqueKeys: false, maxAliasCount: 100 }) as unknown;
  } catch {
    return undefined;
  }
}

export function checkText(text: string, maxJobs?: number): Checked {
  const format = detectFormat(text);
  const result = parsePipeline(text, format, maxJobs === undefined ? {} : { maxJobs });
  if (result.ok) return { format, pipeline: result.pipeline, errors: [], draft: result.pipeline };
  return { format, errors: result.errors, draft: readDraft(text) };
}

/** Errors grouped by their 1-based line; errors without a position are left out. */
export function errorsByLine(errors: readonly PipelineError[]): Map<number, PipelineError[]> {
  const byLine = new Map<number, PipelineError[]>();
  for (const error of errors) {
    if (error.line === undefined) continue;
    const list = byLine.get(error.line) ?? [];
    list.push(error);
    byLine.set(error.line, list);
  }
  return byLine;
}

/** The offset in `text` of a 1-based line and column (clamped to the text). */
export function offsetOf(text: string, line: number, column = 1): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) return text.length;
    offset = next + 1;
  }
  const end = text.indexOf('\n', offset);
  const lineEnd = end === -1 ? text.length : end;
  return Math.min(offset + Math.max(0, column - 1), lineEnd);
}

/** `line 7, column 12` or nothing for a problem with no position. */
export function positionText(error: PipelineError): string {
  if (error.line === undefined) return '';
  return `line ${error.line}${error.column === undefined ? '' : `, column ${error.column}`}`;
}
