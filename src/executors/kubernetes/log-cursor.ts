/**
 * Resuming a pod log without losing or repeating lines. Pure.
 *
 * Lines are requested with `timestamps=true` (RFC 3339, nanoseconds). After a dropped connection,
 * the log is requested again from the second of the last line seen (`sinceTime` is honoured at
 * second precision), and the lines up to and including the last one delivered are skipped.
 */

export interface TimestampedLine {
  /** Fixed-width UTC time, `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: ordered as strings. */
  time: string;
  text: string;
}

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z /;

export function splitTimestamp(line: string): TimestampedLine | undefined {
  const m = STAMP.exec(line);
  if (!m) return undefined;
  return { time: `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`, text: line.slice(m[0].length) };
}

export class LogCursor {
  private last: string | undefined;
  /** Lines delivered with time === last. */
  private atLast = 0;
  /** While replaying after a reconnection: lines at `last` still to skip. */
  private toSkip = 0;

  /** The `sinceTime` of a reconnection, or undefined to read from the start. */
  since(): string | undefined {
    return this.last === undefined ? undefined : `${this.last.slice(0, 19)}Z`;
  }

  /** Call before reading the log again from since(). */
  resume(): void {
    this.toSkip = this.atLast;
  }

  /** The text to deliver for a received line, or undefined when it was delivered before. */
  accept(line: string): string | undefined {
    const parsed = splitTimestamp(line);
    if (!parsed) return line;
    const { time, text } = parsed;
    if (this.last !== undefined && time < this.last) return undefined;
    if (time === this.last) {
      if (this.toSkip > 0) {
        this.toSkip -= 1;
        return undefined;
      }
      this.atLast += 1;
      return text;
    }
    this.last = time;
    this.atLast = 1;
    this.toSkip = 0;
    return text;
  }
}
