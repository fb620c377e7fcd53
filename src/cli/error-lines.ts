/** Pipeline errors as lines: compiler-style for files, with the position for API answers. */
import { formatError } from '../core/issues.ts';
import type { PipelineError } from '../core/types.ts';

/** `file:line:column: path: message` (`file: path: message` when the error has no position). */
export function formatLocated(file: string, error: PipelineError): string {
  const where = error.line === undefined ? file : `${file}:${error.line}:${error.column ?? 1}`;
  return `${where}: ${formatError(error)}`;
}

/** One error of an API answer: `path: message (line 3, column 7)`. */
export function formatDetail(error: PipelineError): string {
  const at = error.line === undefined ? '' : ` (line ${error.line}, column ${error.column ?? 1})`;
  return `${formatError(error)}${at}`;
}
