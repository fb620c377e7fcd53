/** Finding text in a log and marking it in the styled segments. Pure. */
import type { AnsiStyle, Segment } from './ansi.ts';

export interface Match {
  line: number;
  start: number;
  end: number;
}

/** At most this many matches are found (enough to page through; a count says there are more). */
export const MAX_MATCHES = 10_000;

/** Case-insensitive occurrences of `query` in each line of plain text, in order. */
export function findMatches(lines: readonly string[], query: string, limit = MAX_MATCHES): Match[] {
  if (query === '') return [];
  const needle = query.toLowerCase();
  const matches: Match[] = [];
  for (let line = 0; line < lines.length; line++) {
    const haystack = (lines[line] ?? '').toLowerCase();
    for (
      let at = haystack.indexOf(needle);
      at !== -1;
      at = haystack.indexOf(needle, at + needle.length)
    ) {
      matches.push({ line, start: at, end: at + needle.length });
      if (matches.length >= limit) return matches;
    }
  }
  return matches;
}

export interface MarkedSegment {
  text: string;
  style: AnsiStyle;
  mark?: 'match' | 'current';
}

/** Splits a line's segments where ranges of its plain text begin and end, marking those parts. */
export function markSegments(
  segments: readonly Segment[],
  ranges: readonly { start: number; end: number; current?: boolean }[],
): MarkedSegment[] {
  if (ranges.length === 0) return segments.map((s) => ({ text: s.text, style: s.style }));
  const out: MarkedSegment[] = [];
  let offset = 0;
  for (const segment of segments) {
    const segStart = offset;
    const segEnd = offset + segment.text.length;
    let cursor = segStart;
    for (const range of ranges) {
      if (range.end <= cursor || range.start >= segEnd) continue;
      const from = Math.max(range.start, cursor);
      const to = Math.min(range.end, segEnd);
      if (from > cursor)
        out.push({
          text: segment.text.slice(cursor - segStart, from - segStart),
          style: segment.style,
        });
      out.push({
        text: segment.text.slice(from - segStart, to - segStart),
        style: segment.style,
        mark: range.current ? 'current' : 'match',
      });
      cursor = to;
    }
    if (cursor < segEnd)
      out.push({ text: segment.text.slice(cursor - segStart), style: segment.style });
    offset = segEnd;
  }
  return out;
}
