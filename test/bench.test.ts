/** Smoke test of `npm run bench`: one small workload, quick, checking the report's shape only. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from '../bench/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'chainr-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench', () => {
  it('measures the chain hop against the baseline and writes the report', async () => {
    const report = await runBench({ quick: true, only: ['chain-hop'], outDir: dir });
    const written = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as typeof report;
    expect(written).toEqual(report);
    expect(Object.keys(written).sort()).toEqual(['machine', 'workloads']);
    expect(written.machine).toMatchObject({ quick: true, cores: expect.any(Number) as number });
    const hop = written.workloads['chain-hop'];
    expect(Object.keys(written.workloads)).toEqual(['chain-hop']);
    expect(hop?.ratio).toBeGreaterThan(0);
    expect(hop?.ratio_of).toBe('hop_p50_ms');
    for (const side of [hop?.chainr, hop?.baseline]) {
      for (const key of ['hop_p50_ms', 'hop_p99_ms', 'wall_ms']) {
        const spread = side?.[key] as { median: number; min: number; max: number };
        expect(spread.median, key).toBeGreaterThan(0);
        expect(spread.min, key).toBeGreaterThan(0);
        expect(spread.max, key).toBeGreaterThanOrEqual(spread.min);
      }
    }
  }, 120_000);
});
