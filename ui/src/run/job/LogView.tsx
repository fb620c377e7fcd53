/**
 * A log's lines, windowed: only the lines in view are in the page, so a log of 100,000 lines
 * scrolls as smoothly as one of ten. While following, the last line stays in view; scrolling up
 * pauses that, scrolling back to the end (or "Follow") resumes it.
 */
import type { RefObject } from 'react';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Segment } from './ansi.ts';
import { styleProps } from './ansi.ts';
import { formatClock, formatTimestamp } from '../../shared/format.ts';
import type { AttemptMarker } from './log-lines.ts';
import { markSegments, type Match } from './log-search.ts';

export const LINE_HEIGHT = 18;
const OVERSCAN = 20;

export interface LogViewProps {
  segments: readonly Segment[][];
  /** The rows that begin an attempt, in order: drawn as separators, not numbered. */
  markers?: readonly AttemptMarker[];
  /** Number of the first line (1 unless older lines were dropped). */
  firstLineNumber?: number;
  matches?: readonly Match[];
  current?: number;
  /** Keep the end in view as lines arrive (until the user scrolls up). */
  follow?: boolean;
}

function useViewportHeight(ref: RefObject<HTMLElement | null>): number {
  const [height, setHeight] = useState(400);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    if (element.clientHeight > 0) setHeight(element.clientHeight);
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (element.clientHeight > 0) setHeight(element.clientHeight);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return height;
}

function LogLine({
  number,
  segments,
  ranges,
}: {
  number: number;
  segments: readonly Segment[];
  ranges: { start: number; end: number; current?: boolean }[];
}) {
  return (
    <div className="log-line" data-line={number}>
      <span className="log-number" aria-hidden="true">
        {number}
      </span>
      <span className="log-text">
        {markSegments(segments, ranges).map((part, i) => {
          const { className, color, background } = styleProps(part.style);
          const style = color || background ? { color, background } : undefined;
          const content = (
            <span key={i} className={className} style={style}>
              {part.text}
            </span>
          );
          return part.mark ? (
            <mark
              key={i}
              className={`log-mark ${part.mark === 'current' ? 'log-mark-current' : ''}`}
            >
              {content}
            </mark>
          ) : (
            content
          );
        })}
      </span>
    </div>
  );
}

/** Where an attempt begins: `── attempt 2 · started 12:03:04 ──`. */
function Marker({ marker }: { marker: AttemptMarker }) {
  const started =
    marker.startedAt === undefined ? '' : ` · started ${formatClock(marker.startedAt)}`;
  return (
    <div className="log-marker" role="separator" title={formatTimestamp(marker.startedAt)}>
      ── attempt {marker.attempt}
      {started} ──
    </div>
  );
}

const NO_MARKERS: readonly AttemptMarker[] = [];

export function LogView({
  segments,
  markers = NO_MARKERS,
  firstLineNumber = 1,
  matches = [],
  current,
  follow = false,
}: LogViewProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const height = useViewportHeight(scroller);
  const [scrollTop, setScrollTop] = useState(0);
  const [pinned, setPinned] = useState(true);
  /** Where the view was after the last scroll, ours or the reader's: a smaller one is a scroll up. */
  const lastTop = useRef(0);
  /** Once followed, the view keeps to the end through the lines that arrive as the job ends. */
  const followed = useRef(false);
  const total = segments.length;

  const first = Math.max(0, Math.floor(scrollTop / LINE_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + height) / LINE_HEIGHT) + OVERSCAN);

  const rangesByLine = useMemo(() => {
    const map = new Map<number, { start: number; end: number; current?: boolean }[]>();
    matches.forEach((m, i) => {
      if (m.line < first || m.line >= last) return;
      const list = map.get(m.line) ?? [];
      list.push({ start: m.start, end: m.end, current: i === current });
      map.set(m.line, list);
    });
    return map;
  }, [matches, current, first, last]);

  // Following: stay at the end as lines arrive or the view is resized, unless the reader scrolled up.
  useLayoutEffect(() => {
    if (follow) followed.current = true;
    const element = scroller.current;
    if (!element || !followed.current || !pinned) return;
    element.scrollTop = element.scrollHeight - element.clientHeight;
    lastTop.current = element.scrollTop;
    setScrollTop(element.scrollTop);
  }, [total, follow, pinned, height]);

  // Searching: bring the current match into view.
  const currentMatch = current === undefined ? undefined : matches[current];
  useEffect(() => {
    const element = scroller.current;
    if (!element || !currentMatch) return;
    const top = currentMatch.line * LINE_HEIGHT;
    if (top < element.scrollTop || top + LINE_HEIGHT > element.scrollTop + element.clientHeight) {
      element.scrollTop = Math.max(0, top - element.clientHeight / 2);
      lastTop.current = element.scrollTop;
      setPinned(false);
    }
  }, [currentMatch]);

  const rows = [];
  // A line's number counts the job's lines before it, not the markers.
  let next = 0;
  while (next < markers.length && (markers[next]?.row ?? 0) < first) next++;
  for (let i = first; i < last; i++) {
    const marker = markers[next];
    if (marker?.row === i) {
      rows.push(<Marker key={i} marker={marker} />);
      next++;
      continue;
    }
    rows.push(
      <LogLine
        key={i}
        number={firstLineNumber + i - next}
        segments={segments[i] ?? []}
        ranges={rangesByLine.get(i) ?? []}
      />,
    );
  }

  return (
    <div className="log-view-wrap">
      <div
        ref={scroller}
        className="log-view"
        tabIndex={0}
        role="log"
        aria-label="Log"
        aria-live="off"
        onScroll={(event) => {
          const element = event.currentTarget;
          const top = element.scrollTop;
          // Only a move up pauses: lines arriving between our scroll and its event leave the
          // view short of the end without the reader having done anything.
          if (top + element.clientHeight >= element.scrollHeight - LINE_HEIGHT) setPinned(true);
          else if (top < lastTop.current) setPinned(false);
          lastTop.current = top;
          setScrollTop(top);
        }}
      >
        <div className="log-spacer" style={{ height: total * LINE_HEIGHT }}>
          <div className="log-window" style={{ transform: `translateY(${first * LINE_HEIGHT}px)` }}>
            {rows}
          </div>
        </div>
      </div>
      {follow && !pinned && (
        <button
          type="button"
          className="button button-small log-jump"
          onClick={() => {
            const element = scroller.current;
            if (element) element.scrollTop = element.scrollHeight;
            setPinned(true);
          }}
        >
          ↓ Follow
        </button>
      )}
    </div>
  );
}
