/**
 * A large run's graph in a real browser, read as a person reads it: at the zoom that shows it
 * all, each job is drawn in its status colour; a legend counts the jobs by status; a search
 * brings a job into view, readable, and opens it; and the keyboard reaches a job in a few Tabs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { submit, waitForEnd } from '../fixtures/api.ts';
import { bigPipeline } from './pipelines.ts';
import { uiSession } from './session.ts';

const session = uiSession();

/** The colour drawn at the centre of a job's node, and the colour of its status, as the page has them. */
function colours(page: Page, job: string, status: string) {
  return page.getByRole('region', { name: 'Pipeline graph' }).evaluate(
    (canvas, [name, variable]) => {
      interface El {
        getBoundingClientRect(): { left: number; top: number; width: number; height: number };
        parentElement: El | null;
        appendChild(child: El): void;
        remove(): void;
        style: Record<string, string>;
        getAttribute(name: string): string | null;
      }
      const { document, getComputedStyle: styleOf } = globalThis as unknown as {
        document: {
          elementFromPoint(x: number, y: number): El | null;
          createElement(tag: string): El;
          querySelectorAll(selector: string): Iterable<El>;
        };
        getComputedStyle: (el: El) => { backgroundColor: string };
      };
      const root = canvas as unknown as El;
      const node = [...document.querySelectorAll('[aria-label]')].find(
        (el) => el.getAttribute('aria-label') === name,
      );
      if (!node) return undefined;
      const box = node.getBoundingClientRect();
      let drawn = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      while (drawn && styleOf(drawn).backgroundColor === 'rgba(0, 0, 0, 0)')
        drawn = drawn.parentElement;
      const probe = document.createElement('div');
      probe.style['background'] = `var(--${variable})`;
      root.appendChild(probe);
      const expected = styleOf(probe).backgroundColor;
      probe.remove();
      return {
        drawn: drawn ? styleOf(drawn).backgroundColor : undefined,
        expected,
        width: box.width,
      };
    },
    [job, status.toLowerCase()] as const,
  );
}

describe("a large run's graph", () => {
  it('shows statuses at fit-to-screen, counts them, and finds a job by name', async () => {
    const flag = join(session.dataDir, 'release-graph');
    // 150 jobs, three layers of 50: fitting them all makes every node a few pixels tall.
    const run = await submit(session.url, bigPipeline(150, flag, 50));
    const uid = run.metadata.uid;
    const page = await session.open(`/runs/${uid}`);
    const legend = page.getByRole('list', { name: 'Jobs by status' });
    await legend.getByText('149 pending').waitFor({ timeout: 45_000 });
    await legend.getByText('1 running').waitFor({ timeout: 20_000 });

    const gate = await colours(page, 'gate', 'RUNNING');
    expect(gate?.width).toBeLessThan(80);
    expect(gate?.drawn).toBe(gate?.expected);
    const pending = await colours(page, 'step-10', 'PENDING');
    expect(pending?.drawn).toBe(pending?.expected);
    expect(pending?.drawn).not.toBe(gate?.drawn);

    writeFileSync(flag, '');
    await waitForEnd(session.url, uid, 60_000);
    await legend.getByText('150 successful').waitFor({ timeout: 20_000 });
    const done = await colours(page, 'step-10', 'SUCCESSFUL');
    expect(done?.drawn).toBe(done?.expected);

    // Search: the job comes into view at a readable size, and its panel opens.
    await page.getByRole('searchbox', { name: 'Find a job by name' }).fill('step-77');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/runs/${uid}/jobs/step-77$`));
    await page.getByRole('heading', { name: 'step-77' }).waitFor();
    await expect
      .poll(async () => (await colours(page, 'step-77', 'SUCCESSFUL'))?.width ?? 0)
      .toBeGreaterThan(150);
    await page.getByRole('searchbox', { name: 'Find a job by name' }).fill('no-such-job');
    await page.keyboard.press('Enter');
    await page.getByText('no job named like “no-such-job”').waitFor();
  });

  it('reaches a job on the graph in fewer than twelve Tabs', async () => {
    const flag = join(session.dataDir, 'release-keyboard');
    const run = await submit(session.url, bigPipeline(120, flag, 40));
    const page = await session.open(`/runs/${run.metadata.uid}`);
    await page.getByRole('list', { name: 'Jobs by status' }).waitFor({ timeout: 45_000 });
    const jobNames = new Set(['gate', ...Array.from({ length: 119 }, (_, i) => `step-${i}`)]);
    let tabs = 0;
    let focused: string | null = null;
    while (tabs < 12) {
      await page.keyboard.press('Tab');
      tabs++;
      focused = await page.evaluate(
        'document.activeElement && document.activeElement.getAttribute("aria-label")',
      );
      if (focused !== null && jobNames.has(focused)) break;
    }
    expect(tabs, `Tabs to the first job (reached ${focused})`).toBeLessThan(12);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/jobs/${focused}$`));
    writeFileSync(flag, '');
  });
});
