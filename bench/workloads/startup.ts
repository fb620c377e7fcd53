/**
 * Time-to-ready of each service: from starting the process to its /readyz answering 200 (on its
 * HTTP port for sched, gate and `up`, on its ops port for work, notif and recycle), started as
 * the package and the image ship it: compiled JavaScript (scripts/package-layout.ts), no
 * TypeScript loader. Target: ≤ 500 ms each on an idle machine. Also the CPU the process spent until
 * then (`*_cpu_ms`, its user and system time: what the start costs whatever else the machine
 * runs). Beside them, `chainr up` from the checkout, as `npm start` runs it (the TypeScript
 * sources, through tsx). No baseline.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layOutPackage } from '../../scripts/package-layout.ts';
import { freePort } from '../../src/process/private-redis.ts';
import type { BenchContext, WorkloadResult } from '../batch.ts';
import { processCpuMs, startBenchRedis } from '../redis.ts';
import { sleep, spread, type Spread } from '../stats.ts';

const CHECKOUT_BIN = fileURLToPath(new URL('../../bin/chainr.js', import.meta.url));
const TARGET_MS = 500;
/** Longer than any start: a service that is not ready by then fails the workload. */
const READY_TIMEOUT_MS = 60_000;

interface Started {
  readyMs: number;
  cpuMs: number;
  stop(): Promise<void>;
}

/** Starts `bin <service>` and answers once its /readyz (on `port`) says 200. */
async function startService(
  bin: string,
  service: string,
  port: { env: 'PORT' | 'CHAINR_OPS_PORT'; value: number },
  env: Record<string, string>,
): Promise<Started> {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, service], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, [port.env]: String(port.value) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port.value}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) {
      const readyMs = performance.now() - started;
      return { readyMs, cpuMs: processCpuMs([child.pid ?? 0]), stop };
    }
    if (child.exitCode !== null || performance.now() - started > READY_TIMEOUT_MS) {
      await stop();
      throw new Error(`chainr ${service} was not ready:\n${stderr.slice(-2000)}`);
    }
    await sleep(5);
  }
}

export async function startupWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const repetitions = ctx.quick ? 2 : 5;
  const pkg = mkdtempSync(join(tmpdir(), 'chainr-bench-package-'));
  const redis = await startBenchRedis();
  const upstreams: Started[] = [];
  try {
    layOutPackage(pkg);
    const bin = join(pkg, 'bin/chainr.js');
    const env = {
      REDIS_URL: redis.url,
      CHAINR_PREFIX: 'bench-startup:',
      CHAINR_KUBERNETES: '0',
      CHAINR_CONTAINER: '0',
    };
    // The gate is ready once it has a healthy upstream: one sched, started once.
    const schedPort = await freePort();
    upstreams.push(await startService(bin, 'sched', { env: 'PORT', value: schedPort }, env));
    const gateEnv = { ...env, CHAINR_UPSTREAMS: `http://127.0.0.1:${schedPort}` };
    const cases: [string, string, string, 'PORT' | 'CHAINR_OPS_PORT', Record<string, string>][] = [
      ['sched', bin, 'sched', 'PORT', env],
      ['work', bin, 'work', 'CHAINR_OPS_PORT', env],
      ['notif', bin, 'notif', 'CHAINR_OPS_PORT', env],
      ['recycle', bin, 'recycle', 'CHAINR_OPS_PORT', env],
      ['gate', bin, 'gate', 'PORT', gateEnv],
      ['up', bin, 'up', 'PORT', env],
      ['up_from_checkout', CHECKOUT_BIN, 'up', 'PORT', env],
    ];
    const figures: Record<string, Spread> = {};
    for (const [name, path, service, portEnv, serviceEnv] of cases) {
      const ready: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < repetitions; r++) {
        const port = { env: portEnv, value: await freePort() };
        const started = await startService(path, service, port, serviceEnv);
        ready.push(started.readyMs);
        cpu.push(started.cpuMs);
        await started.stop();
      }
      figures[`${name}_ready_ms`] = spread(ready);
      figures[`${name}_cpu_ms`] = spread(cpu);
    }
    const readiness = Object.entries(figures).filter(([k]) => k.endsWith('_ready_ms'));
    const compiled = readiness.filter(([k]) => !k.startsWith('up_from_checkout'));
    const slowest = Math.max(...compiled.map(([, s]) => s.median));
    ctx.log(
      `startup: time to ready (median ms; CPU ms) ${readiness
        .map(([k, s]) => {
          const service = k.replace('_ready_ms', '');
          return `${service} ${s.median}; ${figures[`${service}_cpu_ms`]?.median}`;
        })
        .join(', ')}; slowest compiled ${slowest} (target ≤ ${TARGET_MS}, idle)`,
    );
    return {
      startup: {
        chainr: { ...figures, slowest_compiled_median_ms: slowest, target_ms: TARGET_MS },
        baseline: null,
        ratio: null,
        ratio_of: null,
      },
    };
  } finally {
    await Promise.all(upstreams.map((u) => u.stop()));
    await redis.stop();
    rmSync(pkg, { recursive: true, force: true });
  }
}
