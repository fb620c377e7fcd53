/** Waiting for chainr's runs to end, from outside: by reading its event stream, as a client would. */
import type { Redis } from 'ioredis';

/** Waits for runs to end by reading the event stream, as any client of chainr would. */
export class RunEnds {
  constructor(
    readonly connection: Redis,
    private readonly stream: string,
  ) {}

  /** Marks the stream's end now; `wait(n)` resolves (with performance.now()) once n runs ended after it. */
  async mark(): Promise<(n: number, timeoutMs?: number) => Promise<number>> {
    const newest = await this.connection.xrevrange(this.stream, '+', '-', 'COUNT', 1);
    let last = newest[0]?.[0] ?? '0-0';
    return async (n, timeoutMs = 300_000) => {
      const deadline = Date.now() + timeoutMs;
      let ended = 0;
      while (ended < n) {
        if (Date.now() > deadline)
          throw new Error(`${ended} of ${n} runs ended in ${timeoutMs} ms`);
        const reply = await this.connection.xread(
          'COUNT',
          10_000,
          'BLOCK',
          1000,
          'STREAMS',
          this.stream,
          last,
        );
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          last = id;
          const f: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] ?? ''] = fields[i + 1] ?? '';
          if (f.job !== undefined) continue;
          if (f.status === 'SUCCESSFUL') ended++;
          else if (f.status === 'FAILED' || f.status === 'CANCELED')
            throw new Error(`run ${f.uid} ended ${f.status}: ${f.reason}`);
        }
      }
      return performance.now();
    };
  }
}
