/**
 * Resuming a pod log without losing or repeating lines, after a dropped connection or on another
 * worker that re-attaches to the attempt. Pure.
 *
 * Lines are requested with `timestamps=true`: each is stamped by the container runtime (RFC 3339,
 * nanoseconds). Reading again uses `sinceTime`, which is honoured only to the second: the API
 * server re-encodes it at second precision for the kubelet, which then sends, in the log's order,
 * every line stamped at or after that second. So a position is a whole second plus how many lines
 * of that second were delivered: reading from that second and skipping that many lines is exact.
 * Comparing nanosecond stamps is not: lines can share one, and the runtime stamps stdout and stderr
 * apart, so the log's order is not always the stamps' order. Nor is a count of the lines recorded:
 * the store caps a job's log, and the kubelet may rotate the pod's. (What no position recovers: a
 * line written after the break but stamped in an earlier second than the last one delivered.)
 */

export interface LogPosition {
  /** The latest second of a delivered line, `YYYY-MM-DDTHH:MM:SSZ` (UTC): where to read from. */
  second: string;
  /** Lines delivered that are stamped within that second: the first lines read to skip. */
  lines: number;
}

export interface StampedLine {
  /** The UTC second of the line's stamp, `YYYY-MM-DDTHH:MM:SSZ`: ordered as strings. */
  second: string;
  text: string;
}

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d{1,9})?(Z|[+-]\d\d:\d\d) /;

/** The kubelet writes the stamp as the runtime did: trailing zeros trimmed, any UTC offset. */
export function splitTimestamp(line: string): StampedLine | undefined {
  const m = STAMP.exec(line);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[2]}`);
  if (Number.isNaN(ms)) return undefined;
  return { second: `${new Date(ms).toISOString().slice(0, 19)}Z`, text: line.slice(m[0].length) };
}

export class LogCursor {
  /** While reading again from `at.second`: lines of that second still to skip. */
  private toSkip = 0;

  constructor(private at?: LogPosition) {}

  /** The `sinceTime` to read from, or undefined to read the whole log. */
  since(): string | undefined {
    return this.at?.second;
  }

  /** Call before each read of the log from since(). */
  resume(): void {
    this.toSkip = this.at?.lines ?? 0;
  }

  /** Where the delivered lines end (undefined until a stamped line was delivered). */
  position(): LogPosition | undefined {
    return this.at;
  }

  /** The text to deliver for a received line, or undefined when it was delivered before. */
  accept(line: string): string | undefined {
    const stamped = splitTimestamp(line);
    if (!stamped) return line;
    const { second, text } = stamped;
    const at = this.at;
    if (at && second === at.second) {
      if (this.toSkip > 0) {
        this.toSkip -= 1;
        return undefined;
      }
      this.at = { second, lines: at.lines + 1 };
    } else if (!at || second > at.second) {
      // A later second while lines were left to skip: those are no longer in the log (rotated).
      this.toSkip = 0;
      this.at = { second, lines: 1 };
    }
    // An earlier second (stdout and stderr stamped apart): delivered; not after `since()` anyway.
    return text;
  }
}

/** A position in a given pod's log, as recorded with the job's log lines. */
export interface PodLogPosition extends LogPosition {
  pod: string;
}

export const formatPosition = (p: PodLogPosition): string => `${p.pod} ${p.second} ${p.lines}`;

export function parsePosition(text: string): PodLogPosition | undefined {
  const [pod, second, lines, ...rest] = text.split(' ');
  if (!pod || !second || !lines || rest.length > 0) return undefined;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(second) || !/^[1-9]\d*$/.test(lines))
    return undefined;
  return { pod, second, lines: Number(lines) };
}
