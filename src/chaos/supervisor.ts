/**
 * Runs chainr services as OS processes the way Kubernetes runs pods: N processes of each service
 * against one Redis, each started again when it dies — at once when it was killed (a deleted pod
 * is replaced), after a backoff that grows while it keeps dying by itself (a crash loop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { endsWithThisProcess } from '../process/exit-cleanup.ts';

export const SERVICES = ['sched', 'work', 'notif', 'recycle'] as const;
export type Service = (typeof SERVICES)[number];

const BIN = fileURLToPath(new URL('../../bin/chainr.js', import.meta.url));
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;
/** A process that ran this long before dying was not crash-looping: its backoff starts over. */
const STABLE_MS = 10_000;

export type SupervisorEvent =
  | { type: 'start'; member: string; pid: number; time: number }
  | {
      type: 'exit';
      member: string;
      pid: number;
      code: number | null;
      signal: string | null;
      time: number;
    }
  | { type: 'kill'; member: string; pid: number; time: number };

export interface SupervisorOptions {
  counts: Record<Service, number>;
  /** Environment of every process (REDIS_URL, CHAINR_*), over this process's own. */
  env: Record<string, string>;
  /** The port of each sched process, one per process. */
  schedPorts: number[];
  onEvent?: (event: SupervisorEvent) => void;
  /** Each output line of a process (stdout and stderr). */
  onLine?: (member: string, line: string) => void;
}

interface Member {
  name: string;
  service: Service;
  env: Record<string, string>;
  child?: ChildProcess;
  startedAt: number;
  backoffMs: number;
  killed: boolean;
  restartTimer?: NodeJS.Timeout;
}

export interface SupervisorStats {
  starts: number;
  kills: number;
  /** Deaths the supervisor did not cause. */
  crashes: number;
}

export class Supervisor {
  readonly stats: SupervisorStats = { starts: 0, kills: 0, crashes: 0 };
  private readonly members: Member[] = [];
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {
    if (options.schedPorts.length !== options.counts.sched)
      throw new Error(`${options.counts.sched} sched processes need as many ports`);
    for (const service of SERVICES) {
      for (let i = 0; i < options.counts[service]; i += 1) {
        const port: Record<string, string> =
          service === 'sched' ? { PORT: String(options.schedPorts[i]) } : {};
        this.members.push({
          name: `${service}-${i + 1}`,
          service,
          // Probes and metrics on a free port each: the processes share this machine.
          env: { CHAINR_OPS_PORT: '0', ...options.env, ...port },
          startedAt: 0,
          backoffMs: FIRST_BACKOFF_MS,
          killed: false,
        });
      }
    }
  }

  start(): void {
    for (const m of this.members) this.spawn(m);
  }

  /**
   * SIGKILLs one running process of the given services (default: any), picked at random; returns
   * its name, or undefined if none runs.
   */
  killRandom(
    services: readonly Service[] = SERVICES,
    random: () => number = Math.random,
  ): string | undefined {
    const alive = this.members.filter(
      (m) => services.includes(m.service) && m.child?.exitCode === null && !m.killed,
    );
    const victim = alive[Math.floor(random() * alive.length)];
    const pid = victim?.child?.pid;
    if (!victim || pid === undefined) return undefined;
    victim.killed = true;
    victim.child?.kill('SIGKILL');
    this.stats.kills += 1;
    this.options.onEvent?.({ type: 'kill', member: victim.name, pid, time: Date.now() });
    return victim.name;
  }

  /** Stops every process with SIGTERM (SIGKILL after `graceMs`) and starts none again. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.members.map(async (m) => {
        clearTimeout(m.restartTimer);
        const child = m.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private spawn(m: Member): void {
    if (this.stopping) return;
    const child = endsWithThisProcess(
      spawn(process.execPath, [BIN, m.service], {
        env: { ...process.env, ...m.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    m.child = child;
    m.killed = false;
    m.startedAt = Date.now();
    this.stats.starts += 1;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) this.options.onLine?.(m.name, line);
      });
    }
    // A failure to kill an exited process, say; what matters is reported by 'exit'.
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      const pid = child.pid ?? 0;
      this.options.onEvent?.({ type: 'exit', member: m.name, pid, code, signal, time: Date.now() });
      if (this.stopping) return;
      let delay = 0;
      if (!m.killed) {
        this.stats.crashes += 1;
        m.backoffMs = Date.now() - m.startedAt > STABLE_MS ? FIRST_BACKOFF_MS : m.backoffMs;
        delay = m.backoffMs;
        m.backoffMs = Math.min(m.backoffMs * 2, MAX_BACKOFF_MS);
      }
      m.restartTimer = setTimeout(() => this.spawn(m), delay);
    });
    if (child.pid !== undefined)
      this.options.onEvent?.({ type: 'start', member: m.name, pid: child.pid, time: Date.now() });
  }
}

/**
 * Calls `act` at random intervals around `intervalMs` (uniformly between half and one and a half
 * times it), one call at a time, until stopped. A failed call is passed to `onError`.
 */
export function everyAround(
  intervalMs: number,
  act: () => unknown,
  onError: (err: unknown) => void,
  random: () => number = Math.random,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        Promise.resolve().then(act).catch(onError).finally(next);
      },
      intervalMs * (0.5 + random()),
    );
  };
  next();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
