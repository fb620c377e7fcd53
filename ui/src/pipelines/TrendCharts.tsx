/**
 * A pipeline's trends over the last days, drawn (GET /api/pipelines/{name}/trends): how long its
 * newest runs took, what share of its runs succeeded each day, and its slowest jobs. Each mark has
 * a tooltip with its figures; each chart says what it shows when there is nothing to draw.
 */
import { AxisBottom, AxisLeft } from '@visx/axis';
import { Group } from '@visx/group';
import { scaleBand, scaleLinear } from '@visx/scale';
import { Bar } from '@visx/shape';
import type { ReactNode } from 'react';
import type { PipelineTrends } from '../../../src/api/wire.ts';
import { api } from '../shared/api.ts';
import { formatDuration, plural, shortUid } from '../shared/format.ts';
import { statusClass, statusLabel } from '../shared/status.ts';
import { ErrorState } from '../shared/states.tsx';
import { useResource } from '../shared/use-resource.ts';

/** The window the charts cover, in days. */
export const TREND_DAYS = 14;
const WIDTH = 480;
const HEIGHT = 180;
const MARGIN = { top: 8, right: 20, bottom: 40, left: 56 };
const INNER_W = WIDTH - MARGIN.left - MARGIN.right;
const INNER_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const TICK_LABEL = { fill: 'currentColor', fontSize: 10 } as const;

function Chart({ title, empty, children }: { title: string; empty?: string; children: ReactNode }) {
  return (
    <figure className="trend-chart">
      <figcaption>{title}</figcaption>
      {empty !== undefined ? (
        <p className="muted">{empty}</p>
      ) : (
        <svg role="img" aria-label={title} viewBox={`0 0 ${WIDTH} ${HEIGHT}`}>
          <Group left={MARGIN.left} top={MARGIN.top}>
            {children}
          </Group>
        </svg>
      )}
    </figure>
  );
}

function Durations({ runs }: { runs: PipelineTrends['runs'] }) {
  const x = scaleBand({ domain: runs.map((r) => r.uid), range: [0, INNER_W], padding: 0.2 });
  const y = scaleLinear({
    domain: [0, Math.max(1, ...runs.map((r) => r.durationMs))],
    range: [INNER_H, 0],
    nice: true,
  });
  return (
    <Chart
      title="Run durations"
      empty={runs.length === 0 ? 'No run ended in these days.' : undefined}
    >
      {runs.map((run) => {
        const top = y(run.durationMs);
        return (
          <Bar
            key={run.uid}
            className={statusClass(run.status)}
            fill="var(--c)"
            x={x(run.uid)}
            y={top}
            width={x.bandwidth()}
            height={Math.max(1, INNER_H - top)}
          >
            <title>{`Run ${shortUid(run.uid)}: ${formatDuration(run.durationMs)}, ${statusLabel(run.status)}`}</title>
          </Bar>
        );
      })}
      <AxisLeft
        scale={y}
        numTicks={4}
        tickFormat={(ms) => formatDuration(Number(ms))}
        tickLabelProps={TICK_LABEL}
      />
      <AxisBottom
        scale={x}
        top={INNER_H}
        tickValues={[]}
        labelOffset={2}
        label="runs, oldest to newest"
        labelProps={{ ...TICK_LABEL, textAnchor: 'middle' }}
      />
    </Chart>
  );
}

function SuccessRate({ daily }: { daily: PipelineTrends['daily'] }) {
  const x = scaleBand({ domain: daily.map((d) => d.day), range: [0, INNER_W], padding: 0.2 });
  const y = scaleLinear({ domain: [0, 100], range: [INNER_H, 0] });
  const ended = (d: (typeof daily)[number]) => d.successful + d.failed + d.canceled;
  // Every other day labelled (MM-DD): fourteen labels do not fit side by side.
  const labelled = daily.filter((_, i) => (daily.length - 1 - i) % 2 === 0).map((d) => d.day);
  return (
    <Chart
      title="Success rate per day"
      empty={daily.every((d) => ended(d) === 0) ? 'No run ended in these days.' : undefined}
    >
      {daily
        .filter((d) => ended(d) > 0)
        .map((d) => {
          const rate = (100 * d.successful) / ended(d);
          const top = y(rate);
          return (
            <Bar
              key={d.day}
              className="status-successful"
              fill="var(--c)"
              x={x(d.day)}
              y={top}
              width={x.bandwidth()}
              height={Math.max(1, INNER_H - top)}
            >
              <title>{`${d.day}: ${Math.round(rate)} % successful (${d.successful} of ${plural(ended(d), 'run')})`}</title>
            </Bar>
          );
        })}
      <AxisLeft
        scale={y}
        tickValues={[0, 50, 100]}
        tickFormat={(v) => `${Number(v)} %`}
        tickLabelProps={TICK_LABEL}
      />
      <AxisBottom
        scale={x}
        top={INNER_H}
        tickValues={labelled}
        tickFormat={(day) => day.slice(5)}
        tickLabelProps={TICK_LABEL}
      />
    </Chart>
  );
}

function SlowestJobs({ jobs }: { jobs: PipelineTrends['slowestJobs'] }) {
  const y = scaleBand({ domain: jobs.map((j) => j.job), range: [0, INNER_H], padding: 0.2 });
  const x = scaleLinear({
    domain: [0, Math.max(1, ...jobs.map((j) => j.p95Ms))],
    range: [0, INNER_W],
    nice: true,
  });
  return (
    <Chart
      title="Slowest jobs (95th percentile)"
      empty={jobs.length === 0 ? 'No job ran in these days.' : undefined}
    >
      {jobs.map((job) => (
        <Bar
          key={job.job}
          className="status-running"
          fill="var(--c)"
          x={0}
          y={y(job.job)}
          width={Math.max(1, x(job.p95Ms))}
          height={y.bandwidth()}
        >
          <title>{`${job.job}: p95 ${formatDuration(job.p95Ms)}, average ${formatDuration(job.avgMs)}, longest ${formatDuration(job.maxMs)} (${plural(job.attempts, 'attempt')})`}</title>
        </Bar>
      ))}
      <AxisLeft scale={y} tickLabelProps={TICK_LABEL} hideTicks />
      <AxisBottom
        scale={x}
        top={INNER_H}
        numTicks={4}
        tickFormat={(ms) => formatDuration(Number(ms))}
        tickLabelProps={TICK_LABEL}
      />
    </Chart>
  );
}

export function TrendCharts({ name }: { name: string }) {
  const trends = useResource((signal) => api.pipelineTrends(name, TREND_DAYS, { signal }), [name]);
  if (trends.data === undefined)
    return trends.error === undefined ? null : (
      <ErrorState
        title="The trends could not be loaded"
        error={trends.error}
        onRetry={trends.reload}
      />
    );
  const { data } = trends;
  return (
    <section className="trends" aria-label={`Trends of ${name}`}>
      <p className="muted">
        The last {TREND_DAYS} days
        {data.archived ? '' : ', from the runs not yet deleted (no archive)'}
      </p>
      <div className="trend-charts">
        <Durations runs={data.runs} />
        <SuccessRate daily={data.daily} />
        <SlowestJobs jobs={data.slowestJobs} />
      </div>
    </section>
  );
}
