/**
 * Records in Redis that cannot be read back (a field that is not JSON, not the shape chainr
 * writes, a time that is not a number): written by hand, by an older or broken writer, or
 * damaged. A list skips such a record and reports it; reading it alone answers this error.
 */
export type RecordKind = 'run' | 'delivery' | 'instance';

export class CorruptRecordError extends Error {
  constructor(
    readonly kind: RecordKind,
    readonly id: string,
    /** What is wrong, naming the field: `labels: not JSON`. */
    readonly problem: string,
  ) {
    super(`the ${kind} record ${id} in Redis cannot be read (${problem})`);
  }
}

/** Told of every record a list skipped. */
export type CorruptRecordReporter = (err: CorruptRecordError) => void;

/**
 * What `read` gives, or undefined when it finds the record corrupt (reported): a list leaves such
 * a record out. Any other error is not the record's fault and is thrown.
 */
export function skipCorrupt<T>(
  read: () => T,
  report: CorruptRecordReporter | undefined,
): T | undefined {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof CorruptRecordError)) throw err;
    report?.(err);
    return undefined;
  }
}

/** JSON.parse, a parse error reported as the record's corruption. */
export function parseJson(kind: RecordKind, id: string, field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptRecordError(kind, id, `${field}: not JSON`);
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const isStringMap = (v: unknown): v is Record<string, string> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string');

/** A time in ms since the epoch that a date can show (`new Date(ms).toISOString()` throws past ±8.64e15). */
export const isTime = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 8.64e15;
