/**
 * A job's artifacts in its panel, in a real browser against `chainr up` running the jobs on the
 * local executor: name and size as the user reads them, a download that saves the very bytes the
 * job wrote (with auth off, and with a token), and what the panel says when there is nothing to
 * download.
 */
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { submit, waitForEnd } from '../fixtures/api.ts';
import { ARTIFACT_LINE, ARTIFACT_LINES, artifactPipeline } from './pipelines.ts';
import { screenshot } from './screenshots.ts';
import { securedChainr, uiSession } from './session.ts';

const session = uiSession();
const EXPECTED = Buffer.from(ARTIFACT_LINE.repeat(ARTIFACT_LINES));

const panelOf = (page: Page, job: string) => page.locator(`.job-panel[data-job="${job}"]`);

/** Clicks the link and answers what the browser saved, and under which name. */
async function download(page: Page, link: Locator): Promise<{ name: string; bytes: Buffer }> {
  const [saved] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = await saved.path();
  return { name: saved.suggestedFilename(), bytes: readFileSync(path) };
}

/** The artifacts table of `job`'s panel, once it lists `artifact`: its rows' visible text. */
async function artifactRows(page: Page, job: string, artifact: string): Promise<string[]> {
  const table = panelOf(page, job).getByRole('region', { name: `Artifacts of ${job}` });
  await table.getByRole('row', { name: new RegExp(`^${artifact}\\b`) }).waitFor();
  return (await table.getByRole('row').allInnerTexts()).map((row) =>
    row.replace(/\s+/g, ' ').trim(),
  );
}

describe("a job's artifacts in its panel", () => {
  it('lists them with their size and downloads the bytes the job wrote', async () => {
    const run = await submit(session.url, artifactPipeline);
    const uid = run.metadata.uid;
    const ended = await waitForEnd(session.url, uid);
    expect(ended.jobs.map((j) => [j.name, j.status])).toEqual([
      ['extract', 'SUCCESSFUL'],
      ['count', 'SUCCESSFUL'],
      ['broken', 'FAILED'],
    ]);

    const page = await session.open(`/runs/${uid}/jobs/extract`);
    expect(await artifactRows(page, 'extract', 'lines')).toEqual(['lines 1.3 MiB Download']);
    await screenshot(page, 'job-artifacts');
    const saved = await download(
      page,
      panelOf(page, 'extract').getByRole('link', { name: 'Download lines' }),
    );
    expect(saved.name).toBe('lines');
    expect(saved.bytes.length).toBe(EXPECTED.length);
    expect(saved.bytes.equals(EXPECTED)).toBe(true);

    // A job that declares none says so.
    await panelOf(page, 'extract').getByRole('link', { name: 'count' }).click();
    await panelOf(page, 'count').getByText('none declared').waitFor();
    expect(
      await panelOf(page, 'count')
        .getByRole('region', { name: /^Artifacts/ })
        .count(),
    ).toBe(0);

    // A failed job's declared artifact: named, with why there is nothing to download.
    await page.locator('.job-node[data-job="broken"]').click();
    expect(await artifactRows(page, 'broken', 'summary')).toEqual([
      'summary not stored: the job failed',
    ]);
    expect(
      await panelOf(page, 'broken')
        .getByRole('link', { name: /^Download / })
        .count(),
    ).toBe(0);
  });
});

describe("a job's artifacts in its panel, with auth on", () => {
  const TOKEN = 'ui-artifacts-operator-token';
  const secured = securedChainr(TOKEN);

  it('downloads them with the token', async () => {
    const run = await submit(secured.url, artifactPipeline, TOKEN);
    // Until the token is given, the browser reports the API's 401 answers.
    session.expectProblems(/status of 401/);
    const page = await session.open(`/runs/${run.metadata.uid}/jobs/extract`, {
      base: secured.url,
    });
    const dialog = page.getByRole('dialog', { name: 'This chainr needs a token' });
    await dialog.getByLabel('Token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Use this token' }).click();
    expect(await artifactRows(page, 'extract', 'lines')).toEqual(['lines 1.3 MiB Download']);
    const saved = await download(
      page,
      panelOf(page, 'extract').getByRole('link', { name: 'Download lines' }),
    );
    expect(saved.name).toBe('lines');
    expect(saved.bytes.equals(EXPECTED)).toBe(true);
  });
});
