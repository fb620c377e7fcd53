/**
 * A container's log as the kubelet keeps it: lines (stdout and stderr interleaved as they came),
 * each stamped with an RFC 3339 time at nanosecond precision, and followers until it ends; and
 * how it is served (the kubelet's containerLogs endpoint, which the API server's pods/log proxies).
 */
import type { ServerResponse } from 'node:http';
import { isTrue } from './http-util.ts';

const startNs = BigInt(Date.now()) * 1_000_000n;
const startHr = process.hrtime.bigint();

/** Nanoseconds since the epoch, strictly increasing within this process. */
let lastNs = 0n;
function nowNs(): bigint {
  const ns = startNs + (process.hrtime.bigint() - startHr);
  lastNs = ns > lastNs ? ns : lastNs + 1n;
  return lastNs;
}

/** Go's RFC3339Nano: trailing zeros of the fraction dropped. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const fraction = String(ns % 1_000_000_000n)
    .padStart(9, '0')
    .replace(/0+$/, '');
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

/** Nanoseconds of an RFC 3339 time with an optional fraction (as `sinceTime` carries). */
export function parseRfc3339(text: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export interface LogLine {
  ns: bigint;
  text: string;
}

export class PodLog {
  readonly lines: LogLine[] = [];
  ended = false;
  private readonly followers = new Set<(line: LogLine | 'end') => void>();

  append(text: string): void {
    const line = { ns: nowNs(), text };
    this.lines.push(line);
    for (const f of this.followers) f(line);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const f of this.followers) f('end');
    this.followers.clear();
  }

  /** Lines from now on (and 'end'); returns the unsubscribe function. */
  follow(listener: (line: LogLine | 'end') => void): () => void {
    this.followers.add(listener);
    return () => this.followers.delete(listener);
  }

  /** The last lines, at most `maxBytes`: the termination message of FallbackToLogsOnError. */
  tail(maxLines: number, maxBytes: number): string {
    const text = this.lines
      .slice(-maxLines)
      .map((l) => `${l.text}\n`)
      .join('');
    return Buffer.from(text).subarray(-maxBytes).toString();
  }
}

export function formatLine(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${rfc3339Nano(line.ns)} ${line.text}\n` : `${line.text}\n`;
}

/** Which lines a log request asks for (sinceTime / sinceSeconds, then tailLines). */
function selectLines(lines: LogLine[], params: URLSearchParams): LogLine[] {
  const sinceTime = params.get('sinceTime');
  const sinceSeconds = params.get('sinceSeconds');
  let since: bigint | undefined;
  // The API server hands sinceTime to the kubelet re-encoded as a metav1.Time, to the second: a
  // fraction is dropped, and the whole second's lines are sent.
  const sinceNs = sinceTime ? parseRfc3339(sinceTime) : undefined;
  if (sinceNs !== undefined) since = sinceNs - (sinceNs % 1_000_000_000n);
  else if (sinceSeconds) since = BigInt(Date.now() - Number(sinceSeconds) * 1000) * 1_000_000n;
  let selected = since === undefined ? lines : lines.filter((l) => l.ns >= since);
  const tail = params.get('tailLines');
  if (tail !== null) selected = selected.slice(Math.max(0, selected.length - Number(tail)));
  return selected;
}

/** Answers a log request: the selected lines, then (with follow) new ones until the log ends. */
export function serveLog(res: ServerResponse, log: PodLog, params: URLSearchParams): void {
  const timestamps = isTrue(params.get('timestamps'));
  let budget = params.get('limitBytes') === null ? Infinity : Number(params.get('limitBytes'));
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.flushHeaders();
  const write = (line: LogLine): boolean => {
    const text = Buffer.from(formatLine(line, timestamps)).subarray(0, budget);
    budget -= text.length;
    res.write(text);
    return budget > 0;
  };
  for (const line of selectLines(log.lines, params)) if (!write(line)) return void res.end();
  if (!isTrue(params.get('follow')) || log.ended) return void res.end();
  const stop = log.follow((line) => {
    if (line === 'end' || !write(line)) {
      stop();
      res.end();
    }
  });
  res.on('close', stop);
}
