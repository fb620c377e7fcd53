/** A growing log: text arriving in chunks, split into lines and parsed for ANSI styles once. Pure. */
import { parseAnsiLine, type AnsiStyle, type Segment } from './ansi.ts';

export interface LogLines {
  /** The text each line shows (escape sequences removed), for search. */
  text: string[];
  segments: Segment[][];
  /** The unterminated end of the text so far. */
  partial: string;
  /** The style in force after the last complete line. */
  style: AnsiStyle;
  /** Lines dropped from the start to stay under the cap. */
  dropped: number;
}

export const EMPTY_LOG: LogLines = { text: [], segments: [], partial: '', style: {}, dropped: 0 };

/** At most this many lines are kept in the page; the oldest go first. */
export const MAX_LINES = 100_000;

/** The log after a chunk of text; the arrays are new when lines were added. */
export function appendChunk(log: LogLines, chunk: string, maxLines = MAX_LINES): LogLines {
  const pieces = (log.partial + chunk).split('\n');
  const partial = pieces.pop() ?? '';
  if (pieces.length === 0) return { ...log, partial };
  let style = log.style;
  const text = log.text.slice();
  const segments = log.segments.slice();
  for (const raw of pieces) {
    const parsed = parseAnsiLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw, style);
    style = parsed.end;
    segments.push(parsed.segments);
    const only = parsed.segments.length === 1 ? parsed.segments[0] : undefined;
    text.push(only ? only.text : parsed.segments.map((s) => s.text).join(''));
  }
  const excess = text.length - maxLines;
  if (excess > 0) {
    text.splice(0, excess);
    segments.splice(0, excess);
  }
  return { text, segments, partial, style, dropped: log.dropped + Math.max(0, excess) };
}

/** The log once the text has ended: an unterminated last line becomes a line. */
export function finish(log: LogLines): LogLines {
  return log.partial === '' ? log : appendChunk({ ...log, partial: '' }, `${log.partial}\n`);
}
