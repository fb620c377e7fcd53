/**
 * `npm run chaos -- --duration 10m [--report file.json] [--sentinel]`: the long version of the
 * chaos test, on a private redis-server, or with --sentinel on a private Sentinel topology whose
 * master is SIGKILLed every ~30 s too. Writes a JSON report and prints a summary; exits with 1 when a run
 * ended other than expected, an attempt was never executed or executed again without a kill.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../core/durations.ts';
import { exitOnSignals, removedOnExit } from '../process/exit-cleanup.ts';
import { freePort, startPrivateRedis } from '../process/private-redis.ts';
import { redisUrl } from './local.ts';
import { runScenario, summary } from './scenario.ts';
import { SentinelTopology } from './sentinel.ts';

/** Runs submitted per second: about what the chaos test submits. */
const RUNS_PER_SECOND = 4;

const USAGE = `usage: npm run chaos -- [--duration 10m] [--report chaos/results/latest.json] [--sentinel]
  --duration  how long runs are submitted while processes are killed (e.g. 90s, 10m)
  --report    where the JSON report is written
  --sentinel  on a private Sentinel topology whose master is killed every ~30 s too`;

function options() {
  try {
    const { values } = parseArgs({
      options: {
        duration: { type: 'string', default: '10m' },
        report: { type: 'string', default: 'chaos/results/latest.json' },
        sentinel: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    if (!/^([0-9]+(ms|s|m|h))+$/.test(values.duration))
      throw new Error(
        `--duration: expected a duration such as "90s" or "10m", got "${values.duration}"`,
      );
    return { ...values, durationMs: parseDuration(values.duration) };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const values = options();
const { durationMs } = values;
// Interrupted, it stops its processes and its redis-server (exit-cleanup.ts) on the way out.
exitOnSignals();
const dir = await mkdtemp(join(tmpdir(), 'chainr-chaos-'));
// Removed at the end, or on the way out when interrupted.
const removeDir = removedOnExit(dir);
const topology = values.sentinel ? await SentinelTopology.start(join(dir, 'redis')) : undefined;
const redis = topology ? undefined : await startPrivateRedis(dir);
try {
  const report = await runScenario({
    redis: topology
      ? { sentinel: topology, masterKillIntervalMs: 30_000 }
      : { url: redisUrl({ addr: redis?.addr, password: redis?.password }) },
    ledger: join(dir, 'ledger'),
    schedPorts: [await freePort(), await freePort()],
    counts: { sched: 2, work: 3, notif: 1, recycle: 2 },
    submitMs: durationMs,
    runs: Math.round((durationMs / 1000) * RUNS_PER_SECOND),
    killIntervalMs: 1000,
    drainMs: 120_000,
    print: (line) => console.log(line),
  });
  await mkdir(dirname(values.report), { recursive: true });
  const written = { finishedAt: new Date().toISOString(), duration: values.duration, ...report };
  await writeFile(values.report, `${JSON.stringify(written, null, 2)}\n`);
  console.log(summary(report));
  console.log(`report: ${values.report}`);
  const failed = report.wrong.length + report.missing.length + report.unexplained.length;
  process.exitCode = failed > 0 ? 1 : 0;
} finally {
  await redis?.stop();
  await topology?.stop();
  removeDir();
}
