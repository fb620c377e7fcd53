/** Batches a running job's log lines into few Redis round trips, keeping their order. */
import type { LogStore } from '../store/logs.ts';

type Line = { line: string; stream: 'stdout' | 'stderr'; position?: string };

export class LogBuffer {
  private pending: Line[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly logs: LogStore,
    private readonly uid: string,
    private readonly job: string,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 50,
    private readonly maxBatch = 500,
  ) {}

  /** `position`: where the job's log stands with this line (ExecutionIO.onLog), kept with it. */
  push(line: string, stream: 'stdout' | 'stderr', position?: string): void {
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
      .then(() => this.logs.append(this.uid, this.job, batch))
      .catch(this.onError);
    return this.chain;
  }

  /** The latest position recorded for the job, by this worker or an earlier one. */
  async lastPosition(): Promise<string | undefined> {
    await this.flush();
    return this.logs.lastPosition(this.uid, this.job);
  }
}
