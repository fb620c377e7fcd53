/**
 * A job's log as the archive stores it: its lines as a JSON array of `[stream, text]` pairs
 * (`o` stdout, `e` stderr), `[stream, text, attempt]` for a line of a later attempt than the
 * first, gzip-compressed. Logs are mostly repeated text: they shrink several
 * times over, and the archive's rows stay small.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

export const LOG_ENCODING = 'gzip-json';

export interface ArchivedLogLine {
  line: string;
  stream: 'stdout' | 'stderr';
  /** The attempt that wrote it. */
  attempt: number;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export async function encodeLog(
  lines: readonly ArchivedLogLine[],
): Promise<{ data: Buffer; lines: number; bytes: number }> {
  let bytes = 0;
  const pairs = lines.map((l) => {
    bytes += Buffer.byteLength(l.line);
    const stream = l.stream === 'stderr' ? 'e' : 'o';
    return l.attempt === 1 ? [stream, l.line] : [stream, l.line, l.attempt];
  });
  return { data: await gzipAsync(JSON.stringify(pairs)), lines: lines.length, bytes };
}

/** The lines back; `where` names the log in the error when the stored value cannot be read. */
export async function decodeLog(
  encoding: string,
  data: Buffer,
  where: string,
): Promise<ArchivedLogLine[]> {
  if (encoding !== LOG_ENCODING)
    throw new Error(`${where}: log stored as "${encoding}", which this chainr cannot read`);
  let pairs: unknown;
  try {
    pairs = JSON.parse((await gunzipAsync(data)).toString('utf8'));
  } catch (err) {
    throw new Error(`${where}: stored log is not gzip-compressed JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(pairs)) throw new Error(`${where}: stored log is not a list of lines`);
  return pairs.map((pair: unknown, i) => {
    const attempt: unknown = Array.isArray(pair) ? (pair[2] ?? 1) : undefined;
    if (
      !Array.isArray(pair) ||
      typeof pair[1] !== 'string' ||
      (pair[0] !== 'o' && pair[0] !== 'e') ||
      !Number.isInteger(attempt) ||
      (attempt as number) < 1
    )
      throw new Error(`${where}: stored log line ${i} is not ["o"|"e", text, attempt?]`);
    return {
      line: pair[1],
      stream: pair[0] === 'e' ? 'stderr' : 'stdout',
      attempt: attempt as number,
    };
  });
}
