/** Runs the selected workloads and writes the report (bench/main.ts is the command line). */
import os from 'node:os';
import type { BenchContext, Workload, WorkloadResult } from './batch.ts';
import { machine, writeReport, type Report } from './report.ts';
import { apiWorkload } from './workloads/api.ts';
import { archiveWorkload } from './workloads/archive.ts';
import { artifactsWorkload } from './workloads/artifacts.ts';
import { chainHopWorkload } from './workloads/chain-hop.ts';
import { commandsWorkload } from './workloads/commands.ts';
import { diamondWorkload } from './workloads/diamond.ts';
import { fanInWorkload } from './workloads/fan-in.ts';
import { fanOutWorkload } from './workloads/fan-out.ts';
import { badInputWorkload } from './workloads/bad-input.ts';
import { kubernetesWorkload } from './workloads/kubernetes.ts';
import { memoryWorkload } from './workloads/memory.ts';
import { multiProcessWorkload } from './workloads/multi-process.ts';
import { replicationWorkload } from './workloads/replication.ts';
import { startupWorkload } from './workloads/startup.ts';
import { uiLogWorkload } from './workloads/ui-log.ts';

export const WORKLOADS: Record<string, Workload> = {
  diamond: diamondWorkload,
  'chain-hop': chainHopWorkload,
  'fan-in': fanInWorkload,
  'fan-out': fanOutWorkload,
  api: apiWorkload,
  memory: memoryWorkload,
  'multi-process': multiProcessWorkload,
  commands: commandsWorkload,
  replication: replicationWorkload,
  'bad-input': badInputWorkload,
  startup: startupWorkload,
  kubernetes: kubernetesWorkload,
  'ui-log': uiLogWorkload,
  artifacts: artifactsWorkload,
  archive: archiveWorkload,
};

/** Run only when named (--only): the kubernetes workload takes minutes and a thousand processes. */
const ONLY_WHEN_NAMED = new Set(['kubernetes']);

export interface BenchOptions {
  quick: boolean;
  only?: string[];
  outDir: string;
  cpuProf?: boolean;
  /** The artifact workload's artifact size; 256 by default (issue #18). */
  artifactMiB?: number;
  log?: (message: string) => void;
}

export const DEFAULT_ARTIFACT_MIB = 256;

export async function runBench(options: BenchOptions): Promise<Report> {
  const names = options.only?.length
    ? options.only
    : Object.keys(WORKLOADS).filter((n) => !ONLY_WHEN_NAMED.has(n));
  const unknown = names.filter((n) => !(n in WORKLOADS));
  if (unknown.length > 0) {
    throw new Error(
      `unknown workload ${unknown.join(', ')}: one of ${Object.keys(WORKLOADS).join(', ')}`,
    );
  }
  const ctx: BenchContext = {
    quick: options.quick,
    outDir: options.outDir,
    cpuProf: options.cpuProf ?? false,
    artifactMiB: options.artifactMiB ?? DEFAULT_ARTIFACT_MIB,
    log: options.log ?? (() => undefined),
  };
  const started = performance.now();
  const workloads: Record<string, WorkloadResult> = {};
  const report: Report = { machine: machine(options.quick), workloads };
  for (const name of names) {
    ctx.log(`— ${name}`);
    const t0 = performance.now();
    try {
      Object.assign(workloads, await (WORKLOADS[name] as Workload)(ctx));
      ctx.log(`  ${name}: ${Math.round((performance.now() - t0) / 1000)} s`);
    } catch (err) {
      // Keep the other workloads' figures; the failure is in the report and fails the command.
      ctx.log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      const error = err instanceof Error ? err.message : String(err);
      workloads[name] = { chainr: { error }, baseline: null, ratio: null, ratio_of: null };
    }
  }
  report.machine.load_average_1m_at_end = Number(os.loadavg()[0]?.toFixed(2));
  report.machine.duration_s = Math.round((performance.now() - started) / 1000);
  await writeReport(report, options.outDir);
  return report;
}
