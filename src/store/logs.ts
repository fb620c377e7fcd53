/**
 * Job logs: one capped Redis stream per job, a line per entry, every attempt's lines in the
 * same stream. A line of a later attempt carries its attempt number (`a`), so that each line's
 * attempt is known wherever the cap trimmed; a first attempt's lines, most of them, carry nothing.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import { jobField } from './run-hash.ts';

export interface LogLine {
  id: string;
  line: string;
  stream: 'stdout' | 'stderr';
  /** The attempt that wrote it. */
  attempt: number;
}

const READ_ALL_PAGE = 10_000;

type StreamEntries = [id: string, fields: string[]][];

/** The value of an entry's optional field (`p`, `a`), which follows the line's pair. */
function optional(fields: string[], name: string): string | undefined {
  for (let i = 2; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

export function toLines(entries: StreamEntries): LogLine[] {
  return entries.map(([id, fields]) => ({
    id,
    line: fields[1] ?? '',
    stream: fields[0] === 'e' ? 'stderr' : 'stdout',
    attempt: fields.length > 2 ? Number(optional(fields, 'a') ?? 1) : 1,
  }));
}

export class LogStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxLines: number,
  ) {}

  /**
   * Appends lines of one attempt in one round trip. Entries are `o <line>` (stdout) or
   * `e <line>` (stderr), followed by `p <position>` for a line given one (see lastPosition) and
   * by `a <attempt>` after the first attempt.
   */
  async append(
    uid: string,
    job: string,
    lines: { line: string; stream: 'stdout' | 'stderr'; position?: string }[],
    attempt = 1,
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
        ...(attempt === 1 ? [] : ['a', String(attempt)]),
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
      for (const [, fields] of page) {
        const position = optional(fields, 'p');
        if (position !== undefined) return position;
      }
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
