/**
 * `chainr chaos local`: the services as supervised processes on this machine, one of them
 * SIGKILLed at random intervals, until the duration is over or the command is interrupted.
 */
import { writeFile } from 'node:fs/promises';
import type { RedisConfig } from '../config.ts';
import { killMasterEvery, type MasterKillRecord, type SentinelTopology } from './sentinel.ts';
import { everyAround, Supervisor, type Service, type SupervisorEvent } from './supervisor.ts';

export interface LocalChaosOptions {
  counts: Record<Service, number>;
  /** The Redis of the processes: a configured one, or a Sentinel topology whose master is killed too. */
  redis: RedisConfig | { sentinel: SentinelTopology; masterKillIntervalMs: number };
  /** The first sched port; the others follow it. */
  port: number;
  intervalMs: number;
  /** Stop by itself after this long; undefined: until interrupted. */
  durationMs?: number;
  reportPath?: string;
  /** Progress lines for the user. */
  print: (line: string) => void;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

export interface LocalChaosReport {
  mode: 'local';
  startedAt: string;
  durationMs: number;
  counts: Record<Service, number>;
  intervalMs: number;
  schedUrls: string[];
  kills: number;
  /** Kills of the Redis master (--sentinel), with how long each failover took. */
  masterKills: MasterKillRecord[];
  /** Processes started again after dying (killed or crashed). */
  restarts: number;
  crashes: number;
  events: SupervisorEvent[];
}

/** A redis:// URL for the child processes, from whichever way Redis was configured. */
export function redisUrl(redis: RedisConfig): string {
  if (redis.url) return redis.url;
  const auth = redis.password === undefined ? '' : `:${encodeURIComponent(redis.password)}@`;
  return `redis://${auth}${redis.addr ?? '127.0.0.1:6379'}${redis.db ? `/${redis.db}` : ''}`;
}

export async function runLocalChaos(o: LocalChaosOptions): Promise<LocalChaosReport> {
  const schedPorts = Array.from({ length: o.counts.sched }, (_, i) => o.port + i);
  const events: SupervisorEvent[] = [];
  let stopping = false;
  const supervisor = new Supervisor({
    counts: o.counts,
    env: {
      ...('sentinel' in o.redis ? o.redis.sentinel.env : { REDIS_URL: redisUrl(o.redis) }),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    schedPorts,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'kill') o.print(`chaos: killed ${e.member} (pid ${e.pid})`);
      if (e.type === 'exit' && !stopping && e.signal !== 'SIGKILL')
        o.print(`chaos: ${e.member} exited by itself (code ${e.code}, signal ${e.signal})`);
    },
    onLine: (member, line) => o.print(`[${member}] ${line}`),
  });
  const schedUrls = schedPorts.map((p) => `http://127.0.0.1:${p}`);
  const started = Date.now();
  supervisor.start();
  o.print(
    `chaos: sched on ${schedUrls.join(', ')}; a random process killed every ~${o.intervalMs} ms`,
  );
  const monkey = everyAround(
    o.intervalMs,
    () => supervisor.killRandom(),
    () => undefined,
  );
  const masterMonkey =
    'sentinel' in o.redis
      ? killMasterEvery(o.redis.sentinel, o.redis.masterKillIntervalMs, o.print)
      : undefined;
  await Promise.race([
    o.interrupted,
    ...(o.durationMs === undefined ? [] : [new Promise((r) => setTimeout(r, o.durationMs))]),
  ]);
  monkey.stop();
  masterMonkey?.stop();
  stopping = true;
  o.print('chaos: stopping every process');
  await supervisor.stop();
  const initial = Object.values(o.counts).reduce((a, b) => a + b, 0);
  const report: LocalChaosReport = {
    mode: 'local',
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    counts: o.counts,
    intervalMs: o.intervalMs,
    schedUrls,
    kills: supervisor.stats.kills,
    masterKills: masterMonkey?.kills ?? [],
    restarts: supervisor.stats.starts - initial,
    crashes: supervisor.stats.crashes,
    events,
  };
  if (o.reportPath) await writeFile(o.reportPath, `${JSON.stringify(report, null, 2)}\n`);
  o.print(
    `chaos: ${report.kills} kills${masterMonkey ? ` (and ${report.masterKills.length} of the Redis master)` : ''}, ${report.restarts} restarts, ${report.crashes} crashes in ${Math.round(report.durationMs / 1000)} s`,
  );
  return report;
}
