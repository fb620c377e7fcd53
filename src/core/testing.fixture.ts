/** Helpers for the tests of src/core: building pipelines and reading validation results. */
import { formatError } from './issues.ts';
import type { Pipeline, PipelineError, ValidationResult } from './types.ts';

/** The formatted errors of a result (none when valid). */
export function errors(result: ValidationResult): string[] {
  return result.ok ? [] : result.errors.map(formatError);
}

/** Errors as `line:column path: message`. */
export function located(result: ValidationResult): string[] {
  if (result.ok) return [];
  return result.errors.map((e) => `${e.line ?? '?'}:${e.column ?? '?'} ${formatError(e)}`);
}

export function errorList(result: ValidationResult): PipelineError[] {
  if (result.ok) throw new Error('expected errors, got a valid pipeline');
  return result.errors;
}

/** The one error of a result. */
export function only(result: ValidationResult): PipelineError {
  const list = errorList(result);
  if (list.length !== 1)
    throw new Error(`expected one error, got ${list.map(formatError).join('; ')}`);
  return list[0] as PipelineError;
}

export const job = (extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  run: 'true',
  ...extra,
});

export const withJobs = (jobs: unknown) => ({ kind: 'Pipeline', jobs });

export const DNS =
  "must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";

/** A pipeline from `name: [dependency, ...]`, where a dependency `!x` is on the failure of x. */
export function pipeline(
  spec: Record<string, string[]>,
  run: Record<string, string> = {},
): Pipeline {
  const jobs: Pipeline['jobs'] = {};
  for (const [name, deps] of Object.entries(spec)) {
    jobs[name] = {
      image: 'busybox',
      run: run[name] ?? 'true',
      dependsOn: deps.map((d) =>
        d.startsWith('!') ? { job: d.slice(1), conditions: { failure: true } } : { job: d },
      ),
    };
  }
  return { kind: 'Pipeline', jobs };
}
