/**
 * One pipeline's history: its trends drawn (TrendCharts), then its recent runs side by side,
 * oldest to newest, and a row per job with the job's status in each run, so that a job that
 * started failing stands out. The runs are read again every few seconds.
 */
import { lazy, Suspense, useEffect } from 'react';
import { Link } from '../app/router.tsx';
import { runHref, runsHref } from '../app/routes.ts';
import type { Run } from '../../../src/api/wire.ts';
import { api } from '../shared/api.ts';
import { formatClock, formatTimestamp, shortUid } from '../shared/format.ts';
import { StatusIcon } from '../shared/StatusBadge.tsx';
import { statusClass, statusLabel } from '../shared/status.ts';
import { Empty, ErrorState, Loading } from '../shared/states.tsx';
import { useResource } from '../shared/use-resource.ts';

// The chart library loads with this page alone, not with the app.
const TrendCharts = lazy(async () => ({
  default: (await import('./TrendCharts.tsx')).TrendCharts,
}));

/** How many runs the grid shows. */
export const HISTORY_RUNS = 25;
const POLL_MS = 5000;

/** The jobs of the runs, in the newest run's order, then any only older runs had. */
export function jobRows(runs: readonly Run[]): string[] {
  const names = new Set<string>();
  for (let i = runs.length - 1; i >= 0; i--) for (const j of runs[i]?.jobs ?? []) names.add(j.name);
  return [...names];
}

const created = (run: Run) => run.createdAt ?? run.metadata.creationTimestamp;

function Cell({ run, job }: { run: Run; job: string }) {
  const found = run.jobs.find((j) => j.name === job);
  if (!found) return <td className="history-cell history-none" title={`${job}: not in this run`} />;
  const { status } = found;
  const label = `${job}: ${statusLabel(status)} in run ${shortUid(run.metadata.uid)} (${formatTimestamp(created(run))})`;
  return (
    <td className="history-cell">
      <Link
        href={runHref(run.metadata.uid, { job })}
        className={`history-link ${statusClass(status)}`}
        title={label}
        aria-label={label}
        data-status={status}
      >
        <StatusIcon status={status} />
      </Link>
    </td>
  );
}

export function PipelinePage({ name }: { name: string }) {
  const list = useResource(
    (signal) => api.listRuns({ name, limit: HISTORY_RUNS }, { signal }),
    [name],
  );
  const { reload } = list;
  useEffect(() => {
    document.title = `${name} · history · chainr`;
    const timer = window.setInterval(reload, POLL_MS);
    return () => window.clearInterval(timer);
  }, [name, reload]);
  // The API lists newest first; time runs left to right.
  const runs = [...(list.data?.items ?? [])].reverse();
  const jobs = jobRows(runs);

  return (
    <section className="page" aria-labelledby="pipeline-title">
      <header className="page-header">
        <h1 id="pipeline-title">{name}</h1>
        <span className="muted">its last {HISTORY_RUNS} runs, oldest to newest</span>
        <div className="spacer" />
        <Link href={runsHref(new URLSearchParams({ name }).toString())} className="button">
          All its runs
        </Link>
      </header>
      <Suspense fallback={null}>
        <TrendCharts name={name} />
      </Suspense>
      {list.data === undefined && list.loading ? (
        <Loading what="runs" />
      ) : list.data === undefined ? (
        <ErrorState title="The runs could not be loaded" error={list.error} onRetry={reload} />
      ) : runs.length === 0 ? (
        <Empty title={`No runs of ${name}`} />
      ) : (
        <div className="history-scroll">
          <table className="table history-grid" aria-label={`Job statuses of ${name}'s runs`}>
            <thead>
              <tr>
                <th scope="col">Job</th>
                {runs.map((run) => (
                  <th key={run.metadata.uid} scope="col" className="history-run">
                    <Link
                      href={runHref(run.metadata.uid)}
                      className={`history-link ${statusClass(run.status)}`}
                      title={`Run ${shortUid(run.metadata.uid)}: ${statusLabel(run.status)} (${formatTimestamp(created(run))})`}
                    >
                      <StatusIcon status={run.status} />
                      <span className="history-time">{formatClock(created(run))}</span>
                    </Link>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job}>
                  <th scope="row" className="mono">
                    {job}
                  </th>
                  {runs.map((run) => (
                    <Cell key={run.metadata.uid} run={run} job={job} />
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
