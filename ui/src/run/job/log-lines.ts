/**
 * A growing log: text arriving in chunks, split into lines and parsed for ANSI styles once, with
 * a marker row where each attempt of a retried job begins. Pure.
 */
import { parseAnsiLine, type AnsiStyle, type Segment } from './ansi.ts';

/** The row that begins an attempt's lines: not a line of the job. */
export interface AttemptMarker {
  /** Its index among the rows. */
  row: number;
  attempt: number;
  startedAt?: string;
}

export interface LogLines {
  /** The text each row shows (escape sequences removed), for search; '' for a marker. */
  text: string[];
  segments: Segment[][];
  /** The rows that are attempt markers, in order. */
  markers: AttemptMarker[];
  /** The unterminated end of the text so far. */
  partial: string;
  /** The style in force after the last complete line. */
  style: AnsiStyle;
  /** Lines of the job dropped from the start to stay under the cap. */
  dropped: number;
}

export const EMPTY_LOG: LogLines = {
  text: [],
  segments: [],
  markers: [],
  partial: '',
  style: {},
  dropped: 0,
};

/** How many lines of the job the log holds (its markers are not). */
export const lineCount = (log: LogLines): number => log.text.length - log.markers.length;

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
  return capped({ ...log, text, segments, partial, style }, maxLines);
}

/** The log with its oldest rows dropped beyond `maxLines`, markers included. */
function capped(log: LogLines, maxLines: number): LogLines {
  const excess = log.text.length - maxLines;
  if (excess <= 0) return log;
  log.text.splice(0, excess);
  log.segments.splice(0, excess);
  const markers = log.markers
    .filter((m) => m.row >= excess)
    .map((m) => ({ ...m, row: m.row - excess }));
  const droppedMarkers = log.markers.length - markers.length;
  return { ...log, markers, dropped: log.dropped + excess - droppedMarkers };
}

/**
 * The log with a marker row where an attempt begins: what came before it ends there (its
 * unterminated line becomes a line, its colours stop).
 */
export function appendMarker(
  log: LogLines,
  attempt: number,
  startedAt: string | undefined,
  maxLines = MAX_LINES,
): LogLines {
  const ended = finish(log);
  const marker: AttemptMarker = { row: ended.text.length, attempt, startedAt };
  return capped(
    {
      ...ended,
      text: [...ended.text, ''],
      segments: [...ended.segments, []],
      markers: [...ended.markers, marker],
      style: {},
    },
    maxLines,
  );
}

/** The log once the text has ended: an unterminated last line becomes a line. */
export function finish(log: LogLines): LogLines {
  return log.partial === '' ? log : appendChunk({ ...log, partial: '' }, `${log.partial}\n`);
}
