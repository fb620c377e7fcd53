/** `npm run bench`: chainr against a bare BullMQ baseline. See docs/BENCHMARKS.md. */
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { exitOnSignals } from '../src/process/exit-cleanup.ts';
import { table } from './report.ts';
import { DEFAULT_ARTIFACT_MIB, runBench, WORKLOADS } from './run.ts';

const program = new Command('bench')
  .description('Measure chainr against a bare BullMQ baseline on the same Redis')
  .option('--quick', 'a smoke version: smaller workloads, fewer repetitions (about a minute)')
  .option(
    '--only <workloads...>',
    `run only these (comma-separated or repeated): ${Object.keys(WORKLOADS).join(', ')}`,
  )
  .option(
    '--out <dir>',
    'where the report goes',
    fileURLToPath(new URL('./results', import.meta.url)),
  )
  .option(
    '--artifact-mib <n>',
    "size of the artifacts workload's artifact, in MiB",
    (value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1)
        throw new InvalidArgumentError('expected a whole number of MiB, 1 or more');
      return n;
    },
    DEFAULT_ARTIFACT_MIB,
  )
  .option(
    '--cpu-prof',
    'also profile an extra diamond repetition of each system and the API requests (into --out)',
  )
  .parse();

// Interrupted, it stops its redis-servers and other processes on the way out.
exitOnSignals();
const opts = program.opts<{
  quick?: boolean;
  only?: string[];
  out: string;
  cpuProf?: boolean;
  artifactMib: number;
}>();
const report = await runBench({
  quick: opts.quick ?? false,
  only: opts.only?.flatMap((o) => o.split(',')).filter(Boolean),
  outDir: opts.out,
  cpuProf: opts.cpuProf ?? false,
  artifactMiB: opts.artifactMib,
  log: (m) => process.stderr.write(`${m}\n`),
});
process.stdout.write(`${table(report)}\n\nreport: ${opts.out}/latest.json\n`);
const failed = Object.values(report.workloads).some((w) => 'error' in w.chainr);
// Lingering client sockets (BullMQ, undici keep-alive) must not keep the command alive.
process.exit(failed ? 1 : 0);
