/**
 * The sched instances behind the gate: round robin over the healthy ones, each checked with
 * GET /api every interval and marked down at once when a connection to it fails.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';

export interface Upstream {
  url: URL;
  agent: Agent;
  healthy: boolean;
  /** Requests sent to it (shown by the gate's /healthz). */
  requests: number;
}

export class UpstreamPool {
  readonly upstreams: Upstream[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    urls: readonly string[],
    private readonly logger: FastifyBaseLogger,
    private readonly intervalMs: number,
  ) {
    this.upstreams = urls.map((u) => ({
      url: new URL(u),
      agent: new Agent({ keepAlive: true, maxFreeSockets: 64 }),
      healthy: true,
      requests: 0,
    }));
  }

  start(): void {
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const u of this.upstreams) u.agent.destroy();
  }

  /** The upstreams to try for one request, in order: healthy ones first, round robin. */
  candidates(): Upstream[] {
    const n = this.upstreams.length;
    const start = this.next++ % Math.max(1, n);
    const rotated = [...this.upstreams.slice(start), ...this.upstreams.slice(0, start)];
    return [...rotated.filter((u) => u.healthy), ...rotated.filter((u) => !u.healthy)];
  }

  markDown(upstream: Upstream, reason: string): void {
    if (upstream.healthy)
      this.logger.warn({ upstream: upstream.url.origin, reason }, 'upstream down');
    upstream.healthy = false;
  }

  private markUp(upstream: Upstream): void {
    if (!upstream.healthy) this.logger.info({ upstream: upstream.url.origin }, 'upstream up');
    upstream.healthy = true;
  }

  private async checkAll(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => this.check(u)));
  }

  /** Alive when GET /api answers below 500 (a 401 from a sched with auth on is alive too). */
  private check(upstream: Upstream): Promise<void> {
    return new Promise((done) => {
      const req = httpRequest(
        new URL('/api', upstream.url),
        { method: 'GET', agent: upstream.agent, timeout: Math.min(this.intervalMs, 2000) },
        (res) => {
          res.resume();
          if ((res.statusCode ?? 500) < 500) this.markUp(upstream);
          else this.markDown(upstream, `GET /api answered ${res.statusCode}`);
          done();
        },
      );
      req.on('timeout', () => req.destroy(new Error('health check timed out')));
      req.on('error', (err) => {
        this.markDown(upstream, err.message);
        done();
      });
      req.end();
    });
  }
}
