/**
 * Splits a job's output into lines, keeping at most `maxLineBytes` of each: a job that prints
 * 150 MB without a line break costs the worker `maxLineBytes`, not 150 MB (readline would hold
 * the whole line). A cut line ends with a marker saying how many bytes were dropped.
 */
import type { Readable } from 'node:stream';

/** The default cap of one log line (CHAINR_LOG_LINE_BYTES). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;

/** The marker a cut line ends with. */
export const lineCutMarker = (dropped: number) => ` [chainr: line cut, ${dropped} more bytes]`;

/** The marker at the end of a cut line. */
export const LINE_CUT_MARKER = / \[chainr: line cut, \d+ more bytes\]$/;

/**
 * `line` within `maxLineBytes` of UTF-8 (with the marker), for lines that arrive whole (the
 * kubernetes executor's): what a LineSplitter would have made of it.
 */
export function cutLine(line: string, maxLineBytes: number): string {
  if (line.length <= maxLineBytes / 3) return line; // at most 3 bytes per UTF-16 unit
  const bytes = Buffer.from(line);
  if (bytes.length <= maxLineBytes) return line;
  return withMarker(bytes.subarray(0, maxLineBytes), bytes.length - maxLineBytes);
}

/** Decoded, with the marker of a cut line; a character cut in two is left out. */
function withMarker(kept: Buffer, dropped: number): string {
  return kept.toString('utf8').replace(/\uFFFD$/, '') + lineCutMarker(dropped);
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (this.parts.length === 0 && this.dropped === 0 && end - start <= this.maxLineBytes) {
        // A whole line within the chunk, the common case: decoded in place, nothing copied.
        const last = end > start && chunk[end - 1] === CR ? end - 1 : end;
        this.onLine(chunk.toString('utf8', start, last));
      } else {
        this.keep(chunk.subarray(start, end));
        this.emit(true);
      }
      start = end + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** The last line, when the output did not end with a line break. */
  end(): void {
    if (this.kept > 0 || this.dropped > 0) this.emit(false);
  }

  private keep(piece: Buffer): void {
    const room = this.maxLineBytes - this.kept;
    if (piece.length > room) this.dropped += piece.length - Math.max(room, 0);
    if (room <= 0) return;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    // Copied: the chunk's memory is not held beyond this call.
    this.parts.push(Buffer.from(kept));
    this.kept += kept.length;
  }

  private emit(ended: boolean): void {
    let bytes = Buffer.concat(this.parts, this.kept);
    // CRLF line ends, as readline's crlfDelay: Infinity treated them.
    if (ended && this.dropped === 0 && bytes[bytes.length - 1] === CR)
      bytes = bytes.subarray(0, -1);
    const line = this.dropped > 0 ? withMarker(bytes, this.dropped) : bytes.toString('utf8');
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    this.onLine(line);
  }
}

/** Feeds a stream's output to `onLine`, line by line, each capped at `maxLineBytes`. */
export function readLines(
  stream: Readable,
  maxLineBytes: number,
  onLine: (line: string) => void,
): void {
  const splitter = new LineSplitter(maxLineBytes, onLine);
  stream.on('data', (chunk: Buffer) => splitter.push(chunk));
  stream.on('end', () => splitter.end());
}
