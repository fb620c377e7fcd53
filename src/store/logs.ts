/** Job logs: one capped Redis stream per job, a line per entry. */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export interface LogLine {
  id: string;
  line: string;
  stream: 'stdout' | 'stderr';
}

type StreamEntries = [id: string, fields: string[]][];

function toLines(entries: StreamEntries): LogLine[] {
  return entries.map(([id, fields]) => ({
    id,
    line: fields[1] ?? '',
    stream: fields[0] === 'e' ? 'stderr' : 'stdout',
  }));
}

export class LogStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxLines: number,
  ) {}

  /** Appends lines in one round trip. Entries are `o <line>` (stdout) or `e <line>` (stderr). */
  async append(uid: string, job: string, lines: { line: string; stream: 'stdout' | 'stderr' }[]) {
    if (lines.length === 0) return;
    const key = this.keys.log(uid, job);
    const pipeline = this.redis.pipeline();
    for (const l of lines) {
      pipeline.xadd(
        key,
        'MAXLEN',
        '~',
        this.maxLines,
        '*',
        l.stream === 'stderr' ? 'e' : 'o',
        l.line,
      );
    }
    await pipeline.exec();
  }

  /** Lines after `afterId` (exclusive), oldest first. */
  async read(uid: string, job: string, afterId = '-', count = 1000): Promise<LogLine[]> {
    const start = afterId === '-' ? '-' : `(${afterId}`;
    const entries = (await this.redis.xrange(
      this.keys.log(uid, job),
      start,
      '+',
      'COUNT',
      count,
    )) as StreamEntries;
    return toLines(entries);
  }

  /** Every line after `afterId` (exclusive), read in pages. */
  async readAll(uid: string, job: string, afterId = '-'): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    for (let after = afterId; ;) {
      const page = await this.read(uid, job, after);
      lines.push(...page);
      const last = page[page.length - 1];
      if (!last || page.length < 1000) return lines;
      after = last.id;
    }
  }

  /** Waits up to `blockMs` for lines after `afterId`, on a connection reserved for blocking. */
  async waitFor(blocking: Redis, uid: string, job: string, afterId: string, blockMs: number) {
    const reply = await blocking.xread(
      'COUNT',
      1000,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.keys.log(uid, job),
      afterId,
    );
    return toLines(reply?.[0]?.[1] ?? []);
  }
}
