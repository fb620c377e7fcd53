/**
 * The one-machine default's own Redis: a `redis-server` from PATH, listening on a free loopback
 * port with a random password, its append-only data under the data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { endsWithThisProcess } from './exit-cleanup.ts';

export interface PrivateRedis {
  addr: string;
  password: string;
  stop(): Promise<void>;
}

export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, ' +
        'macOS: `brew install redis`), or point chainr at a Redis with REDIS_URL=redis://host:6379.',
    );
  }
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

/** A redis-server left running by a chainr that was killed would corrupt the same AOF: stop it. */
function stopStale(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('redis-server')) process.kill(pid, 'SIGKILL');
  } catch {
    // Not running any more (or no /proc): nothing to stop.
  }
}

/** Whether a redis-server answers on a loopback port (one attempt, no retries). */
export async function redisAnswers(port: number, password?: string): Promise<boolean> {
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    ...(password !== undefined && { password }),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined); // a refused connection is the answer here
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function waitUntilReady(
  child: ChildProcess,
  port: number,
  password: string,
  output: () => string,
) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start:\n${output()}`);
    if (await redisAnswers(port, password)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer within 15 s:\n${output()}`);
}

export async function startPrivateRedis(dataDir: string): Promise<PrivateRedis> {
  const dir = resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pidFile = join(dir, 'redis.pid');
  stopStale(pidFile);
  const port = await freePort();
  const password = randomBytes(24).toString('hex');
  const confFile = join(dir, 'redis.conf');
  await writeFile(
    confFile,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `requirepass ${password}`,
      `dir ${dir}`,
      `pidfile ${pidFile}`,
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      'daemonize no',
      'loglevel warning',
    ].join('\n') + '\n',
    { mode: 0o600 },
  );
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((done, fail) => {
      // In a process group of its own: a Ctrl+C on chainr up reaches the whole foreground group,
      // and Redis must outlive the services that write to it, which stop first; stop() ends it
      // last, and a redis-server left by a killed chainr is stopped at the next start (stopStale).
      const c = spawn('redis-server', [confFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      c.once('spawn', () => done(endsWithThisProcess(c)));
      c.once('error', (err: NodeJS.ErrnoException) =>
        fail(err.code === 'ENOENT' ? new RedisNotInstalledError() : err),
      );
    });
  } catch (err) {
    throw err instanceof RedisNotInstalledError
      ? err
      : new Error(`could not start redis-server: ${String(err)}`);
  }
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitUntilReady(child, port, password, () => output);
  return {
    addr: `127.0.0.1:${port}`,
    password,
    stop: () =>
      new Promise<void>((done) => {
        // Already gone (a Ctrl+C reaches the whole process group, redis-server too): no 'exit' is
        // coming any more.
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
