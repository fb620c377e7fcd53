/** Parsers of option values, for commander: they throw InvalidArgumentError with a clear reason. */
import { InvalidArgumentError } from 'commander';

/** `key=value` (the value may contain `=`), collected into a record across repeated options. */
export function collectKeyValue(
  raw: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const at = raw.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got "${raw}"`);
  return { ...previous, [raw.slice(0, at)]: raw.slice(at + 1) };
}

export function positiveInteger(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got "${raw}"`);
  }
  return value;
}

export const OUTPUT_FORMATS = ['json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const RUN_STATUS_NAMES = ['PENDING', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED'];

/** A run status, in any case (`failed` is FAILED). */
export function runStatus(raw: string): string {
  const status = raw.toUpperCase();
  if (!RUN_STATUS_NAMES.includes(status)) {
    throw new InvalidArgumentError(`expected one of ${RUN_STATUS_NAMES.join(', ')}`);
  }
  return status;
}
