/**
 * A Redis Sentinel topology on this machine, for the chaos tool and the tests: a master, a
 * replica and three sentinels, each a `redis-server` (the sentinels with `--sentinel`) on a free
 * loopback port, the data nodes with a random password. `killMaster` SIGKILLs whichever node is
 * the master; once the sentinels have promoted the other one, the killed node is started again as
 * its replica, so that the topology can lose its master again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { endsWithThisProcess } from '../process/exit-cleanup.ts';
import { freePort, redisAnswers } from '../process/private-redis.ts';
import { everyAround } from './supervisor.ts';

export const MASTER_NAME = 'chainr';

export interface SentinelOptions {
  /** How long a master stays unanswering before the sentinels call it down (their down-after). */
  downAfterMs?: number;
}

interface Node {
  port: number;
  child?: ChildProcess;
}

export interface MasterKill {
  /** The port of the master killed. */
  port: number;
  time: number;
  /** Resolves once a new master is promoted (its port, when) and the killed node runs again as its replica. */
  recovered: Promise<{ port: number; promotedAt: number; rejoinedAt: number }>;
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Sentinel topology: ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class SentinelTopology {
  readonly masterName = MASTER_NAME;
  readonly password = randomBytes(24).toString('hex');
  private readonly nodes: Node[] = [];
  private readonly sentinels: Node[] = [];
  private stopping = false;

  private constructor(
    private readonly dir: string,
    private readonly downAfterMs: number,
  ) {}

  /** Starts the master, its replica and three sentinels watching it; `dir` holds their files. */
  static async start(dir: string, options: SentinelOptions = {}): Promise<SentinelTopology> {
    const t = new SentinelTopology(dir, options.downAfterMs ?? 1000);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (let i = 0; i < 2; i += 1) t.nodes.push({ port: await freePort() });
    for (let i = 0; i < 3; i += 1) t.sentinels.push({ port: await freePort() });
    const [master, replica] = t.nodes as [Node, Node];
    await t.startNode(master);
    await t.startNode(replica, master.port);
    for (const s of t.sentinels) await t.startSentinel(s, master.port);
    // Ready when every sentinel knows the replica and the two other sentinels.
    await until('the sentinels did not find each other and the replica', 30_000, async () => {
      const counts = await Promise.all(
        t.sentinels.map((s) =>
          t.ask(s, async (r) => {
            const info = (await r.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
            const field = (name: string) => Number(info[info.indexOf(name) + 1]);
            return { replicas: field('num-slaves'), others: field('num-other-sentinels') };
          }),
        ),
      );
      return counts.every((c) => c.replicas >= 1 && c.others >= 2) ? true : undefined;
    });
    return t;
  }

  /** host:port of each sentinel (REDIS_ADDRS). */
  get addrs(): string[] {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`);
  }

  /** The environment that points a chainr service at this topology. */
  get env(): Record<string, string> {
    return {
      REDIS_ADDRS: this.addrs.join(','),
      REDIS_MASTER: MASTER_NAME,
      REDIS_PASSWORD: this.password,
    };
  }

  /** The master's port as the sentinels report it (the first one that answers). */
  async masterPort(): Promise<number> {
    for (const s of this.sentinels) {
      const port = await this.ask(s, async (r) => {
        const addr = (await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as
          string[] | null;
        return addr ? Number(addr[1]) : undefined;
      }).catch(() => undefined);
      if (port !== undefined) return port;
    }
    throw new Error('Sentinel topology: no sentinel answers');
  }

  /** A client of the node on `port` (the caller disconnects it). */
  client(port: number): Redis {
    const r = new Redis({ port, host: '127.0.0.1', password: this.password, lazyConnect: true });
    r.on('error', () => undefined);
    return r;
  }

  /** SIGKILLs the master; the answer's `recovered` says when the topology is whole again. */
  async killMaster(): Promise<MasterKill> {
    const port = await this.masterPort();
    const node = this.nodes.find((n) => n.port === port);
    if (!node?.child) throw new Error(`Sentinel topology: the master on ${port} is not running`);
    await this.kill(node);
    const time = Date.now();
    const recovered = (async () => {
      const promoted = await until('no replica was promoted', 60_000, async () => {
        const now = await this.masterPort();
        if (now === port) return undefined;
        // Promoted once the node itself says so, not only the sentinels.
        const role = await this.ask({ port: now }, (r) => r.call('ROLE'), this.password);
        return (role as string[])[0] === 'master' ? now : undefined;
      });
      const promotedAt = Date.now();
      // Started again only now, and as a replica: a master that came back empty before the
      // promotion would hand its empty data set to the replica.
      if (!this.stopping) await this.startNode(node, promoted);
      return { port: promoted, promotedAt, rejoinedAt: Date.now() };
    })();
    recovered.catch(() => undefined); // the caller awaits it or not; a late failure is not a crash
    return { port, time, recovered };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.sentinels, ...this.nodes].map((n) => this.kill(n, 'SIGTERM')));
  }

  private async startNode(node: Node, replicaOf?: number): Promise<void> {
    const args = [
      '--port',
      String(node.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--dbfilename',
      `dump-${node.port}.rdb`,
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      this.password,
      '--masterauth',
      this.password,
      // The replica takes its first copy over the socket, at once.
      '--repl-diskless-sync',
      'yes',
      '--repl-diskless-sync-delay',
      '0',
      '--loglevel',
      'warning',
      ...(replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)]),
    ];
    node.child = endsWithThisProcess(spawn('redis-server', args, { stdio: 'ignore' }));
    await until(`redis-server on ${node.port} did not answer`, 15_000, async () =>
      (await redisAnswers(node.port, this.password)) ? true : undefined,
    );
    if (replicaOf !== undefined)
      await until(`the replica on ${node.port} did not sync`, 30_000, async () => {
        const info = await this.ask(node, (r) => r.info('replication'), this.password);
        return /master_link_status:up/.test(info) ? true : undefined;
      });
  }

  private async startSentinel(node: Node, masterPort: number): Promise<void> {
    // A sentinel rewrites its configuration file (what it learns of the others): one each.
    const conf = join(this.dir, `sentinel-${node.port}.conf`);
    await writeFile(
      conf,
      [
        `port ${node.port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        'loglevel warning',
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel auth-pass ${MASTER_NAME} ${this.password}`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${this.downAfterMs}`,
        `sentinel failover-timeout ${MASTER_NAME} ${Math.max(3000, this.downAfterMs * 3)}`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
      ].join('\n') + '\n',
      { mode: 0o600 },
    );
    node.child = endsWithThisProcess(
      spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }),
    );
    await until(`sentinel on ${node.port} did not answer`, 15_000, async () =>
      (await redisAnswers(node.port)) ? true : undefined,
    );
  }

  private async ask<T>(
    node: { port: number },
    f: (r: Redis) => Promise<T>,
    password?: string,
  ): Promise<T> {
    const r = new Redis({
      port: node.port,
      host: '127.0.0.1',
      ...(password !== undefined && { password }),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2000,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await f(r);
    } finally {
      r.disconnect();
    }
  }

  private kill(node: Node, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = node.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise<void>((done) => {
      c.once('exit', () => done());
      c.kill(signal);
    });
  }
}

/** One kill of the master, as the chaos tool reports it. */
export interface MasterKillRecord {
  port: number;
  time: number;
  /** From the kill to the replica's promotion, and to the killed node serving as its replica. */
  promotedMs?: number;
  rejoinedMs?: number;
}

/**
 * SIGKILLs the topology's master at random intervals around `intervalMs`, one failover at a time:
 * the next kill waits until the last one's node is back as a replica.
 */
export function killMasterEvery(
  topology: SentinelTopology,
  intervalMs: number,
  print: (line: string) => void,
): { kills: MasterKillRecord[]; stop(): void } {
  const kills: MasterKillRecord[] = [];
  const monkey = everyAround(
    intervalMs,
    async () => {
      const kill = await topology.killMaster();
      const record: MasterKillRecord = { port: kill.port, time: kill.time };
      kills.push(record);
      print(`chaos: killed the Redis master on port ${kill.port}`);
      const { port, promotedAt, rejoinedAt } = await kill.recovered;
      record.promotedMs = promotedAt - kill.time;
      record.rejoinedMs = rejoinedAt - kill.time;
      print(
        `chaos: Redis on port ${port} promoted after ${record.promotedMs} ms; the killed node is its replica after ${record.rejoinedMs} ms`,
      );
    },
    (err) => print(`chaos: killing the Redis master failed: ${String(err)}`),
  );
  return { kills, stop: () => monkey.stop() };
}
