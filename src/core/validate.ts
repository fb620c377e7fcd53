/**
 * Pipeline validation: the JSON Schema plus graph checks, with every error located by its path
 * (`jobs.error.dependsOn[0].job: unknown job "frist"`). Pure: no I/O.
 */
import type { ValidateOptions } from './check.ts';
import { checkPipeline } from './check.ts';
import { toPipelineError } from './issues.ts';
import type { Pipeline, ValidationResult } from './types.ts';

export type { ValidateOptions } from './check.ts';
export { DEFAULT_MAX_JOBS, isDns1123Label } from './graph.ts';
export { formatError, inFileOrder, MAX_ERRORS } from './issues.ts';
export { parsePipeline } from './parse.ts';
export type { PipelineFormat } from './parse.ts';
export { pipelineSchema, prepareValidator } from './schema.ts';

/** Checks a value (e.g. a parsed request body) as a pipeline; reports all errors at once. */
export function validatePipeline(value: unknown, options: ValidateOptions = {}): ValidationResult {
  const issues = checkPipeline(value, options);
  if (issues.length > 0) return { ok: false, errors: issues.map(toPipelineError) };
  return { ok: true, pipeline: value as Pipeline };
}
