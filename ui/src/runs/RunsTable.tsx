/** The runs as a dense table: status, name, labels, jobs, start and duration. */
import { navigate, Link } from '../app/router.tsx';
import { runHref } from '../app/routes.ts';
import {
  elapsed,
  formatDuration,
  formatRelative,
  formatTimestamp,
  shortUid,
} from '../shared/format.ts';
import { StatusBadge } from '../shared/StatusBadge.tsx';
import type { Run } from '../../../src/api/wire.ts';
import { ProgressStrip } from './ProgressStrip.tsx';

export function Labels({ labels }: { labels: Record<string, string> | undefined }) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return null;
  return (
    <span className="labels">
      {entries.map(([key, value]) => (
        <span key={key} className="label-chip" title={`${key}=${value}`}>
          {key}={value}
        </span>
      ))}
    </span>
  );
}

function RunRow({ run, now }: { run: Run; now: number }) {
  const uid = run.metadata.uid;
  const href = runHref(uid);
  const started = run.startedAt ?? run.createdAt ?? run.metadata.creationTimestamp;
  const duration = elapsed(run.startedAt, run.finishedAt, now);
  return (
    <tr
      className="run-row"
      data-uid={uid}
      data-status={run.status}
      onClick={(event) => {
        if ((event.target as HTMLElement).closest('a')) return;
        navigate(href);
      }}
    >
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td className="run-name-cell">
        <Link href={href} className="run-name">
          {run.metadata.name ?? <span className="muted">unnamed</span>}
        </Link>
        <span className="mono muted run-uid" title={uid}>
          {shortUid(uid)}
        </span>
      </td>
      <td>
        <Labels labels={run.metadata.labels} />
      </td>
      <td>
        <ProgressStrip jobs={run.jobs} />
      </td>
      <td title={formatTimestamp(started)}>{formatRelative(started, now)}</td>
      <td className="numeric">{duration === undefined ? '—' : formatDuration(duration)}</td>
    </tr>
  );
}

export function RunsTable({ runs, now }: { runs: readonly Run[]; now: number }) {
  return (
    <table className="table runs-table">
      <thead>
        <tr>
          <th scope="col" className="col-status">
            Status
          </th>
          <th scope="col">Run</th>
          <th scope="col">Labels</th>
          <th scope="col" className="col-jobs">
            Jobs
          </th>
          <th scope="col" className="col-time">
            Started
          </th>
          <th scope="col" className="col-time numeric">
            Duration
          </th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <RunRow key={run.metadata.uid} run={run} now={now} />
        ))}
      </tbody>
    </table>
  );
}
