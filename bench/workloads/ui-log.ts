/**
 * Opening a job's log of 100,000 lines in the UI (issue #20: under a second, a bounded number of
 * elements in the page), in Debian's headless Chromium against `chainr up`. The baseline is the
 * same log's raw text (`GET .../logs`, text/plain) opened in the same browser: what the browser
 * itself needs to show that many lines, with no app around them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { submit, waitForEnd } from '../../test/fixtures/api.ts';
import { startHttpService } from '../../test/fixtures/processes.ts';
import { chromiumMissing, launchBrowser } from '../../test/ui/browser.ts';
import { hugeLogPipeline } from '../../test/ui/pipelines.ts';
import { ensureBuilt } from '../../ui/ensure-built.ts';
import type { BenchContext, WorkloadResult } from '../batch.ts';
import { ratio, spreads } from '../stats.ts';

const LINES = 100_000;

/** Milliseconds from navigation until `ready` holds, in a fresh page of its own. */
async function timeOpen(browser: Browser, url: string, ready: (page: Page) => Promise<void>) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    const started = performance.now();
    await page.goto(url);
    await ready(page);
    const ms = performance.now() - started;
    const elements = await page.evaluate('document.getElementsByTagName("*").length');
    return { ms, elements: Number(elements) };
  } finally {
    await page.close();
  }
}

export async function uiLogWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const reps = ctx.quick ? 2 : 5;
  await ensureBuilt({ quiet: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'chainr-bench-ui-'));
  const env: Record<string, string> = {
    CHAINR_DATA_DIR: dataDir,
    CHAINR_MAX_LOG_LINES: String(LINES),
    REDIS_URL: '',
    REDIS_ADDR: '',
    REDIS_ADDRS: '',
  };
  const [chainr, browser] = await Promise.all([startHttpService('up', env), launchBrowser()]);
  try {
    const { uid } = (await submit(chainr.url, hugeLogPipeline)).metadata;
    await waitForEnd(chainr.url, uid, 120_000);
    const app = `${chainr.url}/runs/${uid}/jobs/huge`;
    const raw = `${chainr.url}/api/runs/${uid}/jobs/huge/logs`;
    const appReps: Record<string, number>[] = [];
    const rawReps: Record<string, number>[] = [];
    // Alternating, so that both see the same noise; the first of each warms the caches.
    for (let i = 0; i <= reps; i++) {
      const opened = await timeOpen(browser, app, async (page) => {
        await page.getByText(`${LINES.toLocaleString('en-US')} lines · complete`).waitFor();
        await page.getByRole('log').getByText('row 1', { exact: true }).waitFor();
      });
      const plain = await timeOpen(browser, raw, async (page) => {
        await page.getByText(`row ${LINES}`).waitFor();
      });
      if (i === 0) continue;
      appReps.push({ open_ms: opened.ms, page_elements: opened.elements });
      rawReps.push({ open_ms: plain.ms });
    }
    const chainrFigures = spreads(appReps);
    const baselineFigures = spreads(rawReps);
    ctx.log(
      `ui-log: ${LINES} lines open in ${chainrFigures.open_ms?.median} ms ` +
        `(${chainrFigures.page_elements?.median} elements in the page); ` +
        `raw text ${baselineFigures.open_ms?.median} ms`,
    );
    return {
      'ui-log': {
        chainr: { lines: LINES, ...chainrFigures },
        baseline: { lines: LINES, ...baselineFigures },
        ratio: ratio(chainrFigures.open_ms, baselineFigures.open_ms),
        ratio_of: 'open_ms',
      },
    };
  } finally {
    await browser.close();
    await chainr.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
