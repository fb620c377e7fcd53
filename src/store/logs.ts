/** Job logs: one capped Redis stream per job, a line per entry. */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import { jobField } from './run-hash.ts';

export interface LogLine {
  id: string;
  line: string;
  stream: 'stdout' | 'stderr';
}

const READ_ALL_PAGE = 10_000;

type StreamEntries = [id: string, fields: string[]][];

export function toLines(entries: StreamEntries): LogLine[] {
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

  /**
   * Appends lines in one round trip. Entries are `o <line>` (stdout) or `e <line>` (stderr),
   * followed by `p <position>` for a line given one (see lastPosition).
   */
  async append(
    uid: string,
    job: string,
    lines: { line: string; stream: 'stdout' | 'stderr'; position?: string }[],
  ) {
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
        ...(l.position === undefined ? [] : ['p', l.position]),
      );
    }
    await pipeline.exec();
  }

  /**
   * Marks the job's log as cut at its limit (the `logcut` field of its run hash), unless the
   * run is gone: a deleted run is not brought back as a stray field.
   */
  async markCut(uid: string, job: string): Promise<void> {
    await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], '1') end",
      1,
      this.keys.run(uid),
      jobField(job, 'logcut'),
    );
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

  /**
   * Every line after `afterId` (exclusive), a page at a time: pages large enough that a long log
   * costs few round trips (100,000 lines: 10), small enough not to stall Redis, and handed on as
   * they come so that a reader can send one while the next is read.
   */
  async *pages(uid: string, job: string, afterId = '-'): AsyncGenerator<LogLine[]> {
    for (let after = afterId; ;) {
      const page = await this.read(uid, job, after, READ_ALL_PAGE);
      if (page.length > 0) yield page;
      const last = page[page.length - 1];
      if (!last || page.length < READ_ALL_PAGE) return;
      after = last.id;
    }
  }

  /** Every line after `afterId` (exclusive). */
  async readAll(uid: string, job: string, afterId = '-'): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    for await (const page of this.pages(uid, job, afterId))
      for (const line of page) lines.push(line);
    return lines;
  }

  /**
   * The position recorded with the newest line that has one: where an executor that re-attaches
   * to a job resumes its log. It is kept in the line's own entry, written by the same XADD, so it
   * is exact whatever the cap trimmed and wherever a writer died; a count of entries would not be.
   */
  async lastPosition(uid: string, job: string): Promise<string | undefined> {
    const key = this.keys.log(uid, job);
    for (let before = '+'; ;) {
      const page = (await this.redis.xrevrange(key, before, '-', 'COUNT', 100)) as StreamEntries;
      const found = page.find(([, fields]) => fields[2] === 'p');
      if (found) return found[1][3];
      const oldest = page[page.length - 1];
      if (!oldest || page.length < 100) return undefined;
      before = `(${oldest[0]}`;
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
