/**
 * The schedules page in a real browser: each schedule's pipeline, its cron in words, its next run
 * times and its last run, kept up to date without a reload; the runs a schedule created name it;
 * the instances page heads its columns in words. A pipeline's history: its runs side by side, a
 * job that started failing visible at a glance.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PipelineTrends } from '../../src/api/wire.ts';
import { submit, waitForEnd } from '../fixtures/api.ts';
import { screenshot } from './screenshots.ts';
import { uiSession } from './session.ts';

const session = uiSession();

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${session.url}${path}`, init);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('the schedules page', () => {
  it("shows a schedule's pipeline, cron in words, next runs and its last run as it happens", async () => {
    const page = await session.open('/schedules');
    await page.getByText('No schedules').waitFor();
    await page.getByRole('link', { name: 'New schedule' }).waitFor();

    // Every two seconds: its first run comes while the page is open.
    const schedule = await api<{ metadata: { uid: string } }>('/api/schedules', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'heartbeat',
        cron: '*/2 * * * * *',
        timezone: 'UTC',
        pipeline: {
          kind: 'Pipeline',
          metadata: { name: 'ping-pipeline' },
          jobs: { ping: { image: 'busybox', run: 'echo ping' } },
        },
      }),
    });
    const row = page.getByRole('row', { name: /heartbeat/ });
    await row.waitFor({ timeout: 15_000 });
    await row.getByText('ping-pipeline').waitFor();
    await row.getByText('Every 2 seconds').waitFor();
    const next = row.getByRole('list', { name: 'Next runs' }).getByRole('listitem');
    expect(await next.count()).toBe(3);
    // Its last run appears, with its status, without a reload, and leads to the run.
    const last = row.getByRole('link', { name: /Successful|Running|Pending/ });
    await last.waitFor({ timeout: 20_000 });

    await api(`/api/schedules/${schedule.metadata.uid}/pause`, { method: 'POST' });
    await row.getByText('Paused').waitFor({ timeout: 15_000 });
    await last.click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+$/);
    // The run says which schedule created it, by name.
    await page.getByRole('link', { name: 'schedule: heartbeat' }).waitFor();

    await page.goto(`${session.url}/`);
    await page.getByRole('link', { name: 'schedule: heartbeat' }).first().waitFor();
    expect(await page.getByText(`chainr.io/schedule=${schedule.metadata.uid}`).count()).toBe(0);
  });

  it('heads the instances columns in words', async () => {
    const page = await session.open('/instances');
    const headers = page.getByRole('columnheader');
    await headers.first().waitFor();
    const names = await headers.allTextContents();
    expect(names).toEqual(expect.arrayContaining(['ID', 'Service', 'PID', 'Last heartbeat']));
    expect(names).not.toContain('lastSeen');
  });
});

describe("a pipeline's history", () => {
  it('shows each job of its recent runs side by side; a job failing in the latest runs stands out', async () => {
    const flag = join(session.dataDir, 'load-breaks');
    const pipeline = {
      kind: 'Pipeline',
      metadata: { name: 'grid-demo' },
      jobs: {
        extract: { image: 'busybox', run: 'true' },
        load: { image: 'busybox', run: `[ ! -e ${flag} ]`, dependsOn: [{ job: 'extract' }] },
      },
    };
    const uids: string[] = [];
    for (let i = 0; i < 5; i++) {
      if (i === 3) writeFileSync(flag, ''); // the last two runs: load fails
      const run = await submit(session.url, pipeline);
      await waitForEnd(session.url, run.metadata.uid);
      uids.push(run.metadata.uid);
    }

    // From the runs list, the pipeline's name leads to its history.
    const page = await session.open('/');
    await page.getByRole('link', { name: 'grid-demo' }).first().click();
    await page.waitForURL(/\/pipelines\/grid-demo$/);
    const grid = page.getByRole('table', { name: "Job statuses of grid-demo's runs" });
    await grid.waitFor();
    const cells = async (job: string) => {
      const links = grid.getByRole('row', { name: new RegExp(`^${job}`) }).getByRole('link');
      const out = [];
      for (const link of await links.all()) {
        const box = await link.boundingBox();
        out.push({ label: (await link.getAttribute('title')) ?? '', x: box?.x ?? NaN });
      }
      return out;
    };
    const load = await cells('load');
    const extract = await cells('extract');
    expect(load.map((c) => /: (\w+) in run/.exec(c.label)?.[1])).toEqual([
      'Successful',
      'Successful',
      'Successful',
      'Failed',
      'Failed',
    ]);
    expect(extract.map((c) => /: (\w+) in run/.exec(c.label)?.[1])).toEqual(
      Array(5).fill('Successful'),
    );
    // Oldest to newest, left to right, the runs' columns lined up across the jobs' rows.
    for (let i = 1; i < load.length; i++) expect(load[i]!.x).toBeGreaterThan(load[i - 1]!.x);
    expect(load.map((c) => c.x)).toEqual(extract.map((c) => c.x));
    await screenshot(page, 'pipeline-history');
    // A cell leads to that job in that run.
    await grid.getByRole('row', { name: /^load/ }).getByRole('link').last().click();
    await page.waitForURL(new RegExp(`/runs/${uids[4]}/jobs/load$`));
  });

  it('draws its trends: a bar per run by duration, its success rate per day, its slowest jobs', async () => {
    const flag = join(session.dataDir, 'trend-breaks');
    // Each run's slow job sleeps longer than the last; the last run fails.
    const pipeline = (seconds: number) => ({
      kind: 'Pipeline',
      metadata: { name: 'trend-demo' },
      jobs: {
        slow: { image: 'busybox', run: `sleep ${seconds}` },
        quick: { image: 'busybox', run: `[ ! -e ${flag} ]` },
      },
    });
    const uids: string[] = [];
    for (const [i, seconds] of [0.1, 0.6, 1.1, 1.6].entries()) {
      if (i === 3) writeFileSync(flag, '');
      const run = await submit(session.url, pipeline(seconds));
      await waitForEnd(session.url, run.metadata.uid);
      uids.push(run.metadata.uid);
    }
    const trends = await api<PipelineTrends>('/api/pipelines/trend-demo/trends?days=14');

    const page = await session.open('/pipelines/trend-demo');
    const durations = page.getByRole('img', { name: 'Run durations' });
    await durations.waitFor();
    const marks = async (chart: typeof durations) => {
      const out = [];
      for (const bar of await chart.locator('rect:has(title)').all()) {
        const box = await bar.boundingBox();
        out.push({
          title: (await bar.locator('title').textContent()) ?? '',
          x: box?.x ?? NaN,
          y: box?.y ?? NaN,
          width: box?.width ?? NaN,
          height: box?.height ?? NaN,
        });
      }
      return out;
    };
    // One bar per run, oldest to newest from left to right, taller for a longer run.
    const runBars = await marks(durations);
    expect(runBars.map((b) => /^Run (\w+): .*, (\w+)$/.exec(b.title)?.slice(1))).toEqual(
      uids.map((uid, i) => [uid.slice(-8), i === 3 ? 'Failed' : 'Successful']),
    );
    // Left to right in time, each bar's height in proportion to its run's duration.
    for (let i = 1; i < runBars.length; i++)
      expect(runBars[i]!.x).toBeGreaterThan(runBars[i - 1]!.x);
    const first = trends.runs[0]!.durationMs;
    expect(runBars.map((b) => b.height / runBars[0]!.height)).toEqual(
      trends.runs.map((r) => expect.closeTo(r.durationMs / first, 1) as number),
    );
    await durations.getByText('runs, oldest to newest').waitFor();

    // Today's bar: three of four runs succeeded (a run that ended just before midnight UTC would
    // be yesterday's: the days are the API's).
    const success = page.getByRole('img', { name: 'Success rate per day' });
    const dayBars = await marks(success);
    const days = trends.daily.filter((d) => d.successful + d.failed + d.canceled > 0);
    expect(dayBars.map((b) => b.title)).toEqual(
      days.map((d) => {
        const ended = d.successful + d.failed + d.canceled;
        return `${d.day}: ${Math.round((100 * d.successful) / ended)} % successful (${d.successful} of ${ended} ${ended === 1 ? 'run' : 'runs'})`;
      }),
    );
    expect(days.reduce((n, d) => n + d.successful, 0)).toBe(3);
    for (const label of ['0 %', '50 %', '100 %', trends.daily.at(-1)!.day.slice(5)])
      await success.getByText(label, { exact: true }).waitFor();

    // The slowest job on top, its bar the longest; both named on the axis.
    const jobs = page.getByRole('img', { name: 'Slowest jobs (95th percentile)' });
    const jobBars = await marks(jobs);
    expect(jobBars.map((b) => b.title.split(':')[0])).toEqual(['slow', 'quick']);
    expect(jobBars[0]!.y).toBeLessThan(jobBars[1]!.y);
    expect(jobBars[0]!.width).toBeGreaterThan(jobBars[1]!.width);
    expect(jobBars[0]!.title).toMatch(/^slow: p95 \d.*\(4 attempts\)$/);
    for (const job of ['slow', 'quick']) await jobs.getByText(job, { exact: true }).waitFor();
    await screenshot(page, 'pipeline-trends');
  });
});
