/**
 * The report: `{"machine": {...}, "workloads": {"<name>": {"chainr", "baseline", "ratio"}}}`,
 * written to <dir>/latest.json and a dated copy, and printed as a table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { Figures, WorkloadResult } from './batch.ts';
import type { Spread } from './stats.ts';

export interface Report {
  machine: Record<string, unknown>;
  workloads: Record<string, WorkloadResult>;
}

function quiet(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n')[0] as string;
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

export function machine(quick: boolean): Record<string, unknown> {
  const cpus = os.cpus();
  // The bench's own earlier reports do not make the code measured differ from the commit.
  const dirty =
    quiet('git', [
      'status',
      '--porcelain',
      '--untracked-files=no',
      '--',
      '.',
      ':!bench/results',
    ]) !== '';
  return {
    date: new Date().toISOString(),
    quick,
    cpu_model: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_bytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: quiet('redis-server', ['--version']),
    bullmq: packageVersion('bullmq'),
    commit:
      quiet('git', ['rev-parse', '--short', 'HEAD']) + (dirty ? ' (uncommitted changes)' : ''),
    load_average_1m_at_start: Number(os.loadavg()[0]?.toFixed(2)),
  };
}

export async function writeReport(report: Report, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const text = JSON.stringify(report, null, 2) + '\n';
  const stamp = (
    typeof report.machine.date === 'string' ? report.machine.date : new Date().toISOString()
  ).replace(/[:.]/g, '-');
  await writeFile(join(dir, 'latest.json'), text);
  await writeFile(join(dir, `${stamp}.json`), text);
  return join(dir, 'latest.json');
}

const isSpread = (v: unknown): v is Spread =>
  typeof v === 'object' && v !== null && 'median' in v && 'min' in v && 'max' in v;

function cell(f: Figures | null, key: string): string {
  const v = f?.[key];
  if (isSpread(v)) return `${v.median} (${v.min}–${v.max})`;
  return typeof v === 'number' || typeof v === 'string' ? String(v) : '—';
}

/** A Markdown table: every figure with a median, chainr beside the baseline. */
export function table(report: Report): string {
  const rows = [
    '| workload | figure | chainr | baseline | ratio |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [name, w] of Object.entries(report.workloads)) {
    for (const key of Object.keys(w.chainr).filter((k) => isSpread(w.chainr[k]))) {
      const r = key === w.ratio_of ? String(w.ratio) : '';
      rows.push(`| ${name} | ${key} | ${cell(w.chainr, key)} | ${cell(w.baseline, key)} | ${r} |`);
    }
  }
  return rows.join('\n');
}
