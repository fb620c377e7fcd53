/**
 * Batches a running job's log lines into few Redis round trips, keeping their order, and keeps
 * an attempt's log within `maxJobBytes` (past it: one marker line, the job marked, the rest
 * dropped), so that neither Redis nor this worker holds more than that for a job that floods its
 * output. (Each line is capped by the executor that reads it: ExecutionIO.maxLineBytes.)
 */
import { DEFAULT_MAX_LINE_BYTES } from '../../executors/lines.ts';
import type { LogStore } from '../../store/logs.ts';
import type { Attempt } from '../../store/scripts.ts';

type Line = { line: string; stream: 'stdout' | 'stderr'; position?: string };

export interface LogLimits {
  /** Bytes of one line (CHAINR_LOG_LINE_BYTES), passed to the executor. */
  maxLineBytes: number;
  /** Bytes of one attempt's log (CHAINR_LOG_JOB_BYTES). */
  maxJobBytes: number;
}

/** CHAINR_LOG_LINE_BYTES and CHAINR_LOG_JOB_BYTES by default. */
export const DEFAULT_LOG_LIMITS: LogLimits = {
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  maxJobBytes: 16 * 1024 * 1024,
};

/** The line that ends a log cut at its attempt's limit. */
export const logCutLine = (maxJobBytes: number) =>
  `chainr: log cut here: the job printed more than ${maxJobBytes} bytes (CHAINR_LOG_JOB_BYTES); the rest of its output is not kept`;

export class LogBuffer {
  private pending: Line[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private bytes = 0;
  /** The log reached its limit: nothing more is kept. */
  cut = false;

  constructor(
    private readonly logs: LogStore,
    private readonly attempt: Attempt,
    private readonly limits: LogLimits,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 50,
    private readonly maxBatch = 500,
  ) {}

  /** `position`: where the job's log stands with this line (ExecutionIO.onLog), kept with it. */
  push(line: string, stream: 'stdout' | 'stderr', position?: string): void {
    if (this.cut) return;
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.bytes > this.limits.maxJobBytes) {
      this.cut = true;
      this.pending.push({ line: logCutLine(this.limits.maxJobBytes), stream: 'stderr' });
      void this.flush();
      this.chain = this.chain
        .then(() => this.logs.markCut(this.attempt.uid, this.attempt.job))
        .catch(this.onError);
      return;
    }
    this.pending.push({ line, stream, position });
    if (this.pending.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes everything pushed so far; resolves when it is in Redis. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Nothing new: what was pushed before is in the chain already (most jobs' last flush).
    if (this.pending.length === 0) return this.chain;
    const batch = this.pending;
    this.pending = [];
    this.chain = this.chain
      .then(() => {
        const { uid, job, attempt } = this.attempt;
        return this.logs.append(uid, job, batch, attempt);
      })
      .catch(this.onError);
    return this.chain;
  }

  /** The latest position recorded for the job, by this worker or an earlier one. */
  async lastPosition(): Promise<string | undefined> {
    await this.flush();
    return this.logs.lastPosition(this.attempt.uid, this.attempt.job);
  }
}
