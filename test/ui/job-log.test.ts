/**
 * A job's log in a real browser, checked by what is drawn where: while a job runs, its last line
 * stays at the bottom edge of the log; a scroll up pauses that; a log of 100,000 lines keeps a
 * bounded number of elements in the page and still shows its first and last lines; a followed
 * log whose connection drops goes on where it was once the network is back.
 * (How fast such a log opens is measured by `npm run bench -- --only ui-log`.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { submit, waitForEnd } from '../fixtures/api.ts';
import { startTcpProxy } from '../fixtures/tcp-proxy.ts';
import { hugeLogPipeline, streamingPipeline } from './pipelines.ts';
import { uiSession } from './session.ts';

// The server keeps 10,000 lines of a job's log by default; these tests need ten times as many.
const session = uiSession({ CHAINR_MAX_LOG_LINES: '100000' });

interface LogGeometry {
  /** The number of lines the log's toolbar announces. */
  lines: number;
  /** The text drawn at the log's top and bottom edges. */
  top: string | undefined;
  bottom: string | undefined;
  /** The log's box, and the window's height. */
  logTop: number;
  logBottom: number;
  windowHeight: number;
  /** How far the page itself can scroll (it should not: the log scrolls inside it). */
  pageOverflow: number;
  /** Every element inside the log. */
  elements: number;
}

/** Read in one go, so that what is compared was drawn by the same render. */
function measure(page: Page): Promise<LogGeometry> {
  return page.getByRole('log').evaluate((element) => {
    // The browser's own types, as much of them as is used here (the tests compile without DOM).
    interface Box {
      top: number;
      left: number;
      bottom: number;
    }
    interface Node {
      textContent: string | null;
      getBoundingClientRect(): Box;
      clientTop: number;
      clientHeight: number;
      scrollHeight: number;
      closest(selector: string): Node | null;
      querySelectorAll(selector: string): { length: number };
    }
    const { document, window } = globalThis as unknown as {
      document: {
        elementFromPoint(x: number, y: number): Node | null;
        scrollingElement: Node | null;
        documentElement: Node;
      };
      window: { innerHeight: number };
    };
    const log = element as unknown as Node;
    const box = log.getBoundingClientRect();
    // Inside the line's text, right of the line numbers.
    const x = box.left + 90;
    const textAt = (y: number) => document.elementFromPoint(x, y)?.textContent ?? undefined;
    const section = log.closest('section');
    const counter = /([\d,]+) lines? ·/.exec(section?.textContent ?? '');
    const root = document.scrollingElement ?? document.documentElement;
    return {
      lines: Number((counter?.[1] ?? 'NaN').replaceAll(',', '')),
      top: textAt(box.top + log.clientTop + 4),
      bottom: textAt(box.top + log.clientTop + log.clientHeight - 4),
      logTop: box.top,
      logBottom: box.bottom,
      windowHeight: window.innerHeight,
      pageOverflow: root.scrollHeight - root.clientHeight,
      elements: log.querySelectorAll('*').length,
    };
  });
}

async function linesAtLeast(page: Page, n: number): Promise<LogGeometry> {
  for (;;) {
    const geometry = await measure(page);
    if (geometry.lines >= n) return geometry;
    await page.waitForTimeout(100);
  }
}

describe("a job's log in the browser", () => {
  it('keeps the last line of a running job in view; a scroll up pauses, Follow resumes', async () => {
    const flag = join(session.dataDir, 'stop-streaming');
    const run = await submit(session.url, streamingPipeline(flag));
    const page = await session.open(`/runs/${run.metadata.uid}/jobs/stream`);
    await page.getByText(/lines? · following/).waitFor({ timeout: 20_000 });
    // The panel says what runs the job, and that the local executor does not use its image.
    const panel = page.getByRole('complementary');
    await panel
      .getByText("runs on the worker's host, as the worker's user; image not used")
      .waitFor();
    expect(await panel.getByText('Image', { exact: true }).count()).toBe(0);

    // Far more lines than fit: the log scrolls inside its box, which stays inside the window.
    let seen = await linesAtLeast(page, 150);
    expect(seen.logBottom).toBeLessThanOrEqual(seen.windowHeight);
    expect(seen.logBottom - seen.logTop).toBeGreaterThan(200);
    expect(seen.pageOverflow).toBeLessThanOrEqual(0);
    // As lines arrive, the newest one is the one drawn at the bottom edge.
    for (let sample = 0; sample < 5; sample++) {
      seen = await linesAtLeast(page, seen.lines + 10);
      expect(seen.bottom).toBe(`tick ${seen.lines}`);
    }

    // The reader scrolls up: the view stays where they put it while lines keep arriving.
    const box = await page.getByRole('log').boundingBox();
    if (!box) throw new Error('the log has no box');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);
    await page.getByRole('button', { name: /Follow/ }).waitFor();
    const paused = await measure(page);
    expect(paused.bottom).not.toBe(`tick ${paused.lines}`);
    const later = await linesAtLeast(page, paused.lines + 20);
    expect(later.bottom).toBe(paused.bottom);

    // "Follow" brings the end back, and keeps it there.
    await page.getByRole('button', { name: /Follow/ }).click();
    seen = await linesAtLeast(page, later.lines + 10);
    expect(seen.bottom).toBe(`tick ${seen.lines}`);

    // The job ends: its very last line is drawn at the bottom, the count is final.
    writeFileSync(flag, '');
    await page.getByText(/lines · complete/).waitFor({ timeout: 20_000 });
    const ended = await measure(page);
    expect(ended.bottom).toBe('stream ended');
  });

  it("marks where each attempt of a retried job begins, apart from the job's numbered lines", async () => {
    const run = await submit(session.url, {
      kind: 'Pipeline',
      jobs: {
        flaky: {
          image: 'busybox',
          run: 'echo "try $CHAINR_ATTEMPT"; [ "$CHAINR_ATTEMPT" = 3 ]',
          retries: { limit: 2, backoff: { type: 'fixed', delay: '10ms' } },
        },
        once: { image: 'busybox', run: 'echo only' },
      },
    });
    await waitForEnd(session.url, run.metadata.uid);
    const page = await session.open(`/runs/${run.metadata.uid}/jobs/flaky`);
    // Three lines of the job; the three markers are not counted.
    await page.getByText('3 lines · complete').waitFor({ timeout: 20_000 });
    const log = page.getByRole('log');
    const rows = [];
    for (const text of [
      /^── attempt 1 · started \d\d:\d\d:\d\d.* ──$/,
      'try 1',
      /── attempt 2 · /,
      'try 2',
      /── attempt 3 · /,
      'try 3',
    ]) {
      const box = await log.getByText(text, { exact: typeof text === 'string' }).boundingBox();
      if (!box) throw new Error(`${String(text)} is not drawn`);
      rows.push(box);
    }
    // Drawn in that order, one row each, top to bottom.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.y).toBeGreaterThan(rows[i - 1]!.y);
    // Left of each row, in the line numbers' column: 1, 2, 3 for the job's lines, none for a marker.
    const numbers = await log.evaluate(
      (element, ys) => {
        const { document } = globalThis as unknown as {
          document: {
            elementFromPoint(x: number, y: number): { textContent: string | null } | null;
          };
        };
        const left = (
          element as unknown as { getBoundingClientRect(): { left: number } }
        ).getBoundingClientRect().left;
        return ys.map(
          (y) =>
            /^\d+$/.exec(document.elementFromPoint(left + 20, y)?.textContent ?? '')?.[0] ?? '',
        );
      },
      rows.map((r) => r.y + r.height / 2),
    );
    expect(numbers).toEqual(['', '1', '', '2', '', '3']);

    await page.goto(`${session.url}/runs/${run.metadata.uid}/jobs/once`);
    await page.getByText('1 line · complete').waitFor({ timeout: 20_000 });
    expect(await log.getByText(/── attempt/).count()).toBe(0);
  });

  it('goes on where it was after its connection dropped: no line lost, none twice', async () => {
    const flag = join(session.dataDir, 'stop-ticking');
    const run = await submit(session.url, {
      kind: 'Pipeline',
      metadata: { name: 'ticking-log' },
      jobs: {
        tick: {
          image: 'busybox',
          run: `i=0; while [ ! -f '${flag}' ]; do i=$((i + 1)); echo "tick $i"; sleep 0.02; done; echo "ended after $i ticks"`,
        },
      },
    });
    // The browser's way to the server, cut as a network drop would.
    const network = await startTcpProxy(session.url);
    try {
      const page = await session.open(`/runs/${run.metadata.uid}/jobs/tick`, {
        base: network.url,
      });
      await page.getByText(/lines · following/).waitFor({ timeout: 20_000 });
      const before = await linesAtLeast(page, 50);

      session.expectProblems(/net::ERR_/);
      network.cut();
      await page.getByText(/lines · connection lost, reconnecting…/).waitFor({ timeout: 20_000 });
      // The job goes on writing while the page cannot hear it.
      await page.waitForTimeout(2000);
      network.restore();
      await page.getByText(/lines · following/).waitFor({ timeout: 30_000 });
      const resumed = await linesAtLeast(page, before.lines + 150);
      expect(resumed.bottom).toBe(`tick ${resumed.lines}`);

      writeFileSync(flag, '');
      await page.getByText(/lines · complete/).waitFor({ timeout: 20_000 });
      const ended = await measure(page);
      const ticks = Number(/^ended after (\d+) ticks$/.exec(ended.bottom ?? '')?.[1]);
      // Every tick once, in order (a gap would count fewer lines, a repeat more), then the end.
      expect(ticks).toBeGreaterThan(resumed.lines);
      expect(ended.lines).toBe(ticks + 1);
    } finally {
      await network.close();
    }
  });

  it('opens a 100,000-line log with a bounded number of elements, first and last lines in reach', async () => {
    const run = await submit(session.url, hugeLogPipeline);
    await waitForEnd(session.url, run.metadata.uid, 60_000);
    const page = await session.open(`/runs/${run.metadata.uid}/jobs/huge`);
    await page.getByText('100,000 lines · complete').waitFor({ timeout: 30_000 });
    const opened = await measure(page);
    expect(opened.top).toBe('row 1');
    expect(opened.elements).toBeLessThan(1000);
    expect(opened.pageOverflow).toBeLessThanOrEqual(0);

    const log = page.getByRole('log');
    await log.focus();
    await page.keyboard.press('End');
    await expect.poll(async () => (await measure(page)).bottom).toBe('row 100000');
    expect((await measure(page)).elements).toBeLessThan(1000);
    await page.keyboard.press('Home');
    await expect.poll(async () => (await measure(page)).top).toBe('row 1');
  });
});
