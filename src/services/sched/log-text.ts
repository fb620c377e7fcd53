/**
 * A job's log as the text the logs endpoint sends: one attempt's lines, or every attempt's,
 * each attempt after the first begun by a marker line saying which attempt it is and when it
 * started.
 */
import type { LogLine } from '../../store/logs.ts';
import type { JobRecord } from '../../store/run-hash.ts';

/** Start times (ms) of a job's attempts, by attempt number, as its record has them. */
export type AttemptStarts = ReadonlyMap<number, number | undefined>;

export function attemptStarts(job: JobRecord): AttemptStarts {
  const starts = new Map<number, number | undefined>(
    job.attempts.map((a) => [a.attempt, a.startedAt]),
  );
  starts.set(job.attempt, job.startedAt);
  return starts;
}

/** The line that begins an attempt's lines: `── attempt 2 · started 2026-05-01T12:03:04.000Z ──`. */
export function attemptMarker(attempt: number, startedAt: number | undefined): string {
  const started = startedAt === undefined ? '' : ` · started ${new Date(startedAt).toISOString()}`;
  return `── attempt ${attempt}${started} ──`;
}

export class LogText {
  /** The attempt of the last line written: the first attempt's lines need no marker. */
  private previous = 1;

  /**
   * `only`: the attempt whose lines are wanted, every attempt's when undefined. `reread`: the
   * start times again, for an attempt that began after they were read (a followed log). `skip`:
   * how many lines of the text (markers included) to leave out from its start, those a reader
   * whose connection dropped has already read.
   */
  constructor(
    private readonly only: number | undefined,
    private starts: AttemptStarts,
    private readonly reread: () => Promise<AttemptStarts>,
    private skip = 0,
  ) {}

  async render(lines: readonly LogLine[]): Promise<string> {
    let text = '';
    const emit = (line: string) => {
      if (this.skip > 0) this.skip -= 1;
      else text += `${line}\n`;
    };
    for (const l of lines) {
      if (this.only !== undefined) {
        if (l.attempt === this.only) emit(l.line);
        continue;
      }
      if (l.attempt !== this.previous) {
        // Unread (Redis failing over), the marker goes without its time rather than the lines.
        if (!this.starts.has(l.attempt)) this.starts = await this.reread().catch(() => this.starts);
        emit(attemptMarker(l.attempt, this.starts.get(l.attempt)));
        this.previous = l.attempt;
      }
      emit(l.line);
    }
    return text;
  }
}
