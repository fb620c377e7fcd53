/**
 * An artifact from one job to its dependent (issue #18: 256 MiB on the filesystem store, at least
 * half the throughput of a plain `cp` of the same file in the same run; the worker's peak RSS
 * under 64 MiB above idle while it moves). `chainr up` runs both jobs on the local executor: the
 * producer copies the source file into its working directory with `cp`, timed by the job itself
 * (the baseline), and declares the copy as its artifact; the handover is from the end of that
 * command to the start of the dependent's, which finds the artifact in place (and checks it with
 * `cmp` afterwards). The artifact is then downloaded through the API into a file, timed, as the
 * UI and `chainr artifacts get` do. Peak RSS is read from /proc (VmHWM, reset before each phase).
 */
import { randomFillSync } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Run } from '../../src/api/wire.ts';
import { endsWithThisProcess, removedOnExit } from '../../src/process/exit-cleanup.ts';
import { submit, waitForEnd } from '../../test/fixtures/api.ts';
import { startHttpService } from '../../test/fixtures/processes.ts';
import type { BenchContext, WorkloadResult } from '../batch.ts';
import { ratio, spreads } from '../stats.ts';

const MiB = 1024 ** 2;
/** Issue #18's targets. */
const RATIO_TARGET = 0.5;
const RSS_GROWTH_TARGET_MIB = 64;

/** Writes `bytes` random bytes to `path`, a MiB at a time. */
async function writeRandomFile(path: string, bytes: number): Promise<void> {
  function* chunks() {
    for (let left = bytes; left > 0; left -= MiB)
      yield randomFillSync(Buffer.alloc(Math.min(MiB, left)));
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
}

/** The producer copies `source` and stores the copy; its dependent receives it and checks it. */
function handoverPipeline(source: string) {
  const now = 'date +%s%N';
  return {
    kind: 'Pipeline',
    metadata: { name: 'bench-artifact' },
    jobs: {
      produce: {
        image: 'busybox',
        executor: 'local',
        env: { SOURCE: source },
        run: `t0=$(${now}); cp "$SOURCE" blob; t1=$(${now}); printf 'cp_start=%s\\ncp_end=%s\\n' "$t0" "$t1" >> "$CHAINR_OUTPUTS"`,
        artifacts: [{ name: 'blob', path: 'blob' }],
      },
      consume: {
        image: 'busybox',
        executor: 'local',
        env: { SOURCE: source },
        dependsOn: [{ job: 'produce' }],
        inputs: { artifacts: [{ from: 'produce', name: 'blob' }] },
        run: `echo "start=$(${now})" >> "$CHAINR_OUTPUTS"; cmp "$CHAINR_ARTIFACTS/produce/blob" "$SOURCE"`,
      },
    },
  };
}

/** A process's resident memory now and its peak since the last reset, in MiB (from /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Resets the process's peak (VmHWM) to its current RSS, and answers that: the idle figure. */
function resetPeak(pid: number): number {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  return memory(pid).peak;
}

/**
 * The peak's growth since `idle`: never below 0, which the kernel's RSS counters (kept per
 * thread, summed now and then) can show by a few hundred KiB when nothing grew.
 */
function growth(pid: number, idle: number): number {
  return Math.max(0, memory(pid).peak - idle);
}

/** The run as the API answers it (outputs included), which must have succeeded. */
async function endedRun(base: string, uid: string, timeoutMs: number): Promise<Run> {
  const ended = await waitForEnd(base, uid, timeoutMs);
  const run = (await (await fetch(`${base}/api/runs/${uid}`)).json()) as Run;
  if (ended.status !== 'SUCCESSFUL')
    throw new Error(
      `the artifact run ended ${ended.status}: ${run.jobs.map((j) => `${j.name} ${j.status} ${j.reason ?? ''}`).join('; ')}`,
    );
  return run;
}

const nanos = (run: Run, job: string, key: string): bigint => {
  const value = run.jobs.find((j) => j.name === job)?.outputs?.[key];
  if (value === undefined || !/^\d+$/.test(value))
    throw new Error(`job ${job} wrote no time ${key} (date +%s%N): ${String(value)}`);
  return BigInt(value);
};
const msBetween = (from: bigint, to: bigint) => Number(to - from) / 1e6;

/** When the API says the job started or finished, in the jobs' clock (ns since the epoch). */
const recorded = (run: Run, job: string, key: 'startedAt' | 'finishedAt'): bigint => {
  const at = run.jobs.find((j) => j.name === job)?.[key];
  if (at === undefined) throw new Error(`job ${job} has no ${key}`);
  return BigInt(Date.parse(at)) * 1_000_000n;
};

export async function artifactsWorkload(
  ctx: BenchContext,
): Promise<Record<string, WorkloadResult>> {
  const bytes = ctx.artifactMiB * MiB;
  const reps = ctx.quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'chainr-bench-artifacts-'));
  const removeDir = removedOnExit(dir);
  const dataDir = join(dir, 'data');
  const source = join(dir, 'source');
  const downloaded = join(dir, 'downloaded');
  const env: Record<string, string> = {
    CHAINR_DATA_DIR: dataDir,
    REDIS_URL: '',
    REDIS_ADDR: '',
    REDIS_ADDRS: '',
  };
  // It compiles its sources (tsx) as it starts: slow on a loaded machine.
  const chainr = await startHttpService('up', env, { startTimeoutMs: 120_000 });
  endsWithThisProcess(chainr.child);
  const pid = chainr.child.pid ?? 0;
  // A large artifact on a loaded machine: minutes, not the fixture's default 30 s.
  const timeoutMs = 60_000 + (bytes / MiB) * 2_000;
  /** One run: the handover and the download, with the peak RSS above idle of each. */
  const repetition = async () => {
    const idle = resetPeak(pid);
    const { uid } = (await submit(chainr.url, handoverPipeline(source))).metadata;
    const run = await endedRun(chainr.url, uid, timeoutMs);
    const handoverPeak = growth(pid, idle);
    const cpMs = msBetween(nanos(run, 'produce', 'cp_start'), nanos(run, 'produce', 'cp_end'));
    const cpEnd = nanos(run, 'produce', 'cp_end');
    const consumeStart = nanos(run, 'consume', 'start');
    const handoverMs = msBetween(cpEnd, consumeStart);
    // Where it went (ms-precise): storing, until the producer's end is recorded; placing, from
    // the dependent's recorded start to its command's.
    const storeMs = msBetween(cpEnd, recorded(run, 'produce', 'finishedAt'));
    const placeMs = msBetween(recorded(run, 'consume', 'startedAt'), consumeStart);

    const downloadIdle = resetPeak(pid);
    const started = performance.now();
    const res = await fetch(`${chainr.url}/api/runs/${uid}/jobs/produce/artifacts/blob`);
    if (!res.ok || !res.body) throw new Error(`the download answered ${res.status}`);
    await pipeline(Readable.fromWeb(res.body), createWriteStream(downloaded));
    const downloadMs = performance.now() - started;
    const downloadPeak = growth(pid, downloadIdle);
    await rm(downloaded);
    // Each run's 256 MiB stay in the store until retention: removed here instead.
    await rm(join(dataDir, 'artifacts', uid), { recursive: true, force: true });
    return { cpMs, handoverMs, storeMs, placeMs, handoverPeak, downloadMs, downloadPeak };
  };
  try {
    // Warm-up: the code that moves artifacts loaded and compiled, the source in the page cache.
    await writeRandomFile(source, MiB);
    await repetition();
    await writeRandomFile(source, bytes);
    const chainrReps: Record<string, number>[] = [];
    const cpReps: Record<string, number>[] = [];
    const mibPerS = (ms: number) => bytes / MiB / (ms / 1000);
    for (let i = 0; i < reps; i++) {
      const r = await repetition();
      chainrReps.push({
        transfer_ms: r.handoverMs,
        mib_per_s: mibPerS(r.handoverMs),
        store_ms: r.storeMs,
        place_ms: r.placeMs,
        rss_growth_mib: r.handoverPeak,
        download_ms: r.downloadMs,
        download_mib_per_s: mibPerS(r.downloadMs),
        download_rss_growth_mib: r.downloadPeak,
      });
      cpReps.push({ transfer_ms: r.cpMs, mib_per_s: mibPerS(r.cpMs) });
      ctx.log(
        `artifacts rep ${i + 1}/${reps}: ${ctx.artifactMiB} MiB job → dependent ${Math.round(r.handoverMs)} ms ` +
          `(storing ${Math.round(r.storeMs)}, placing ${Math.round(r.placeMs)}; ` +
          `cp ${Math.round(r.cpMs)} ms, ratio ${(r.cpMs / r.handoverMs).toFixed(2)}), ` +
          `peak RSS +${r.handoverPeak.toFixed(1)} MiB; download ${Math.round(r.downloadMs)} ms, ` +
          `peak RSS +${r.downloadPeak.toFixed(1)} MiB`,
      );
    }
    const chainrFigures = spreads(chainrReps);
    const cpFigures = spreads(cpReps);
    return {
      artifacts: {
        chainr: {
          artifact_mib: ctx.artifactMiB,
          repetitions: reps,
          ...chainrFigures,
          ratio_target: RATIO_TARGET,
          rss_growth_target_mib: RSS_GROWTH_TARGET_MIB,
        },
        baseline: { artifact_mib: ctx.artifactMiB, repetitions: reps, ...cpFigures },
        ratio: ratio(chainrFigures.mib_per_s, cpFigures.mib_per_s),
        ratio_of: 'mib_per_s',
      },
    };
  } finally {
    await chainr.kill('SIGTERM');
    removeDir();
  }
}
