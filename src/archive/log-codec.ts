/**
 * A run's logs as the archive stores them. Each job's lines are a JSON array of `[stream, text]`
 * pairs (`o` stdout, `e` stderr), `[stream, text, attempt]` for a line of a later attempt than the
 * first. A run's jobs' arrays are laid end to end in parts of about PART_BYTES and each part is
 * gzip-compressed once; a job's span says where its array lies in its part, uncompressed. One
 * gzip per run rather than per job: setting up a gzip stream costs more than compressing a short
 * log (ten 20-line logs: 0.14-0.28 ms each way, against 0.05 ms for one gzip of all ten), and the
 * jobs' logs repeat each other, so the run's logs shrink to a third. Parts keep a job's read
 * cheap: a log of PART_BYTES or more has a part of its own, so reading one job never inflates
 * more than PART_BYTES of the others' logs.
 *
 * Archives made before schema version 2 hold one gzip per job (`gzip-json`), still read.
 */
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';

/** A job's log alone, gzip-compressed JSON: how archives before schema version 2 stored logs. */
export const LOG_ENCODING = 'gzip-json';
/** A part: jobs' JSON arrays laid end to end, gzip-compressed together. */
export const PART_ENCODING = 'gzip-json-spans';
/**
 * Jobs' logs share a part up to this many bytes of JSON. Parts this small are compressed on the
 * calling thread: zlib's thread pool costs more in hand-offs than it saves below it.
 */
export const PART_BYTES = 64 * 1024;

export interface ArchivedLogLine {
  line: string;
  stream: 'stdout' | 'stderr';
  /** The attempt that wrote it. */
  attempt: number;
}

/** Where a job's log lies: its part, its bytes [from, to) in that part uncompressed. */
export interface LogSpan {
  job: string;
  part: number;
  from: number;
  to: number;
  lines: number;
  /** Bytes of the lines' text. */
  bytes: number;
}

export interface PackedLogs {
  parts: { part: number; encoding: string; data: Buffer }[];
  spans: LogSpan[];
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const compress = (json: Buffer) =>
  json.length <= PART_BYTES ? Promise.resolve(gzipSync(json)) : gzipAsync(json);
const inflate = (data: Buffer) =>
  data.length <= PART_BYTES / 4 ? Promise.resolve(gunzipSync(data)) : gunzipAsync(data);

function jsonOf(lines: readonly ArchivedLogLine[]): { json: Buffer; bytes: number } {
  let bytes = 0;
  const pairs = lines.map((l) => {
    bytes += Buffer.byteLength(l.line);
    const stream = l.stream === 'stderr' ? 'e' : 'o';
    return l.attempt === 1 ? [stream, l.line] : [stream, l.line, l.attempt];
  });
  return { json: Buffer.from(JSON.stringify(pairs)), bytes };
}

/** A run's jobs' logs (by job name) in compressed parts, with where each job's log lies. */
export async function packLogs(
  logs: Readonly<Record<string, readonly ArchivedLogLine[]>>,
): Promise<PackedLogs> {
  const spans: LogSpan[] = [];
  const parts: Buffer[][] = [];
  let current: Buffer[] = [];
  let size = 0;
  const close = () => {
    if (current.length > 0) parts.push(current);
    current = [];
    size = 0;
  };
  for (const [job, lines] of Object.entries(logs)) {
    const { json, bytes } = jsonOf(lines);
    // A long log starts a part of its own, so that reading a short one never inflates it.
    if (size > 0 && size + json.length > PART_BYTES) close();
    spans.push({
      job,
      part: parts.length,
      from: size,
      to: size + json.length,
      lines: lines.length,
      bytes,
    });
    current.push(json);
    size += json.length;
    if (size >= PART_BYTES) close();
  }
  close();
  const data = await Promise.all(parts.map((jsons) => compress(Buffer.concat(jsons))));
  return { parts: data.map((d, part) => ({ part, encoding: PART_ENCODING, data: d })), spans };
}

/** A stored log's bytes uncompressed, when stored as `expected`; `where` names it in errors. */
async function inflated(
  encoding: string,
  expected: string,
  data: Buffer,
  where: string,
): Promise<Buffer> {
  if (encoding !== expected)
    throw new Error(`${where}: log stored as "${encoding}", which this chainr cannot read`);
  try {
    return await inflate(data);
  } catch (err) {
    throw new Error(`${where}: stored log is not gzip-compressed (${(err as Error).message})`);
  }
}

/** A job's lines from their part; `where` names the log in the error when they cannot be read. */
export async function readSpan(
  encoding: string,
  data: Buffer,
  span: { from: number; to: number },
  where: string,
): Promise<ArchivedLogLine[]> {
  const json = await inflated(encoding, PART_ENCODING, data, where);
  if (span.from < 0 || span.to > json.length || span.from > span.to)
    throw new Error(
      `${where}: stored log spans bytes ${span.from}-${span.to} of a part of ${json.length}`,
    );
  return parseLines(json.subarray(span.from, span.to), where);
}

/** A job's lines stored alone (archives before schema version 2). */
export async function decodeLog(
  encoding: string,
  data: Buffer,
  where: string,
): Promise<ArchivedLogLine[]> {
  return parseLines(await inflated(encoding, LOG_ENCODING, data, where), where);
}

function parseLines(json: Buffer, where: string): ArchivedLogLine[] {
  let pairs: unknown;
  try {
    pairs = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new Error(`${where}: stored log is not JSON (${(err as Error).message})`);
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
