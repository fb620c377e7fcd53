/**
 * A matrix of 20 instances on the run's graph, read as a person reads it: one node for the group
 * with its counts by status, which expands into the 20 instances side by side inside a frame,
 * the first on top, and collapses again; the group's panel lists its instances, each opening its own panel.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { submit, waitForEnd } from '../fixtures/api.ts';
import { matrixPipeline } from './pipelines.ts';
import { screenshot } from './screenshots.ts';
import { uiSession } from './session.ts';

const session = uiSession();

const SHARDS = Array.from({ length: 20 }, (_, i) => `shard-${String(i + 1).padStart(2, '0')}`);

/** A node of the graph, by the name it is announced by. */
const graphNode = (page: Page, name: string) =>
  page.getByRole('region', { name: 'Pipeline graph' }).locator(`[aria-label="${name}"]`);

const text = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

type Box = { x: number; y: number; width: number; height: number };

async function box(locator: Locator): Promise<Box> {
  const found = await locator.boundingBox();
  if (!found) throw new Error('not drawn');
  return found;
}

const overlap = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const within = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 &&
  inner.y >= outer.y - 0.5 &&
  inner.x + inner.width <= outer.x + outer.width + 0.5 &&
  inner.y + inner.height <= outer.y + outer.height + 0.5;

describe("a matrix's instances on the graph", () => {
  it(
    'are one group with counts by status, expanded and collapsed on a click',
    { timeout: 120_000 },
    async () => {
      const flag = join(session.dataDir, 'release-shards');
      const run = await submit(session.url, matrixPipeline(flag));
      const uid = run.metadata.uid;
      const page = await session.open(`/runs/${uid}`);
      const group = graphNode(page, 'shard');
      await expect
        .poll(() => text(group).catch(() => ''), { timeout: 30_000 })
        .toBe('◐ shard ×20 12 ✓ 3 ✕ 5 running ⊞');
      // One node for the twenty: none of the instances is drawn on its own.
      for (const name of SHARDS) expect(await graphNode(page, name).count(), name).toBe(0);
      const collapsed = await box(group);
      for (const other of ['prepare', 'report'])
        expect(overlap(collapsed, await box(graphNode(page, other))), other).toBe(false);
      await screenshot(page, 'run-fan-out');

      await page.getByRole('button', { name: 'Expand shard into its 20 instances' }).click();
      const frame = page.getByRole('group', { name: 'shard: 20 instances' });
      await frame.waitFor();
      expect(await group.count()).toBe(0);
      const frameBox = await box(frame);
      const boxes: Box[] = [];
      for (const name of SHARDS) {
        const node = graphNode(page, name);
        await node.waitFor();
        const b = await box(node);
        expect(within(b, frameBox), `${name} inside the frame`).toBe(true);
        expect(b.width, name).toBeGreaterThan(20);
        boxes.push(b);
      }
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++)
          expect(overlap(boxes[i] as Box, boxes[j] as Box), `${SHARDS[i]} / ${SHARDS[j]}`).toBe(
            false,
          );
      // Side by side: the twenty in one column, between prepare and report, the first on top.
      expect(new Set(boxes.map((b) => Math.round(b.x))).size).toBe(1);
      const topDown = SHARDS.map((name, i) => ({ name, y: boxes[i]?.y ?? 0 }))
        .sort((a, b) => a.y - b.y)
        .map((b) => b.name);
      expect(topDown).toEqual(SHARDS);
      expect(frameBox.x).toBeGreaterThan((await box(graphNode(page, 'prepare'))).x);
      expect(frameBox.x).toBeLessThan((await box(graphNode(page, 'report'))).x);
      expect(await text(graphNode(page, 'shard-02'))).toMatch(/^✕ shard-02 Failed · exit 1 /);
      await screenshot(page, 'fan-out-expanded', { docs: false });

      await page.getByRole('button', { name: 'Collapse shard into one node' }).click();
      await group.waitFor();
      expect(await frame.count()).toBe(0);
      for (const name of SHARDS) expect(await graphNode(page, name).count(), name).toBe(0);
      expect(await text(group)).toBe('◐ shard ×20 12 ✓ 3 ✕ 5 running ⊞');

      // The group's panel lists the instances; one of them opens its own panel.
      await group.click();
      await page.waitForURL(new RegExp(`/runs/${uid}/jobs/shard$`));
      const list = page.getByRole('list', { name: 'Instances of shard' });
      expect(await list.getByRole('listitem').count()).toBe(20);
      await list.getByRole('link', { name: 'shard-03' }).click();
      await page.waitForURL(new RegExp(`/runs/${uid}/jobs/shard-03$`));
      await page.getByRole('heading', { name: 'shard-03' }).waitFor();

      writeFileSync(flag, '');
      await waitForEnd(session.url, uid, 30_000);
      await expect.poll(() => text(group), { timeout: 20_000 }).toBe('✕ shard ×20 17 ✓ 3 ✕ ⊞');
    },
  );
});
