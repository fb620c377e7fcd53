/**
 * A throwaway redis-server per workload: a free loopback port, no persistence (both chainr and the
 * baseline run on it, so what it costs is the same for both), removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { endsWithThisProcess, removedOnExit } from '../src/process/exit-cleanup.ts';
import { freePort, redisAnswers } from '../src/process/private-redis.ts';

export interface BenchRedis {
  url: string;
  port: number;
  /** A connection for the harness's own reads (INFO, SLOWLOG, CONFIG). */
  admin: Redis;
  stop(): Promise<void>;
}

/** With `replicaOf`, a replica of the bench Redis on that port, answering once it is in sync. */
export async function startBenchRedis(options: { replicaOf?: number } = {}): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chainr-bench-redis-'));
  // Removed by stop(), or when the bench exits without it (interrupted).
  const removeDir = removedOnExit(dir);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', 'no', '--loglevel', 'warning');
  if (options.replicaOf !== undefined)
    args.push('--replicaof', '127.0.0.1', String(options.replicaOf));
  const child: ChildProcess = endsWithThisProcess(spawn('redis-server', args, { stdio: 'ignore' }));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      removeDir();
      throw new Error(`redis-server did not start on port ${port} (is it on PATH?)`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const admin = new Redis({ port, maxRetriesPerRequest: null, connectionName: 'bench' });
  while (
    options.replicaOf !== undefined &&
    !/master_link_status:up/.test(await admin.info('replication'))
  )
    await new Promise((r) => setTimeout(r, 50));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    admin,
    async stop() {
      admin.disconnect();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      removeDir();
    },
  };
}

/** A field of `INFO <section>` as a number. */
export async function infoNumber(redis: Redis, section: string, field: string): Promise<number> {
  const text = await redis.info(section);
  const line = text.split('\r\n').find((l) => l.startsWith(`${field}:`));
  return Number(line?.slice(field.length + 1) ?? NaN);
}

export async function redisVersion(redis: Redis): Promise<string> {
  const text = await redis.info('server');
  return /redis_version:(\S+)/.exec(text)?.[1] ?? 'unknown';
}

/** CPU time (user + system) of other processes so far, from /proc (Linux), in ms. */
export function processCpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    } catch {
      return NaN;
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}
