/** The runs as a dense table: status, name, labels, jobs, start and duration. */
import { navigate, Link } from '../app/router.tsx';
import { pipelineHref, runHref, schedulesHref } from '../app/routes.ts';
import { SCHEDULE_LABEL, useScheduleName } from '../schedules/schedule-names.ts';
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

/** The schedule that created a run, by its name, linking to the schedules. */
function ScheduleChip({ id }: { id: string }) {
  const name = useScheduleName(id);
  return (
    <Link href={schedulesHref} className="label-chip" title={`${SCHEDULE_LABEL}=${id}`}>
      {name === undefined ? `${SCHEDULE_LABEL}=${id}` : `schedule: ${name}`}
    </Link>
  );
}

export function Labels({ labels }: { labels: Record<string, string> | undefined }) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return null;
  return (
    <span className="labels">
      {entries.map(([key, value]) =>
        key === SCHEDULE_LABEL ? (
          <ScheduleChip key={key} id={value} />
        ) : (
          <span key={key} className="label-chip" title={`${key}=${value}`}>
            {key}={value}
          </span>
        ),
      )}
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
        {run.metadata.name === undefined ? (
          <Link href={href} className="run-name">
            <span className="muted">unnamed</span>
          </Link>
        ) : (
          <Link
            href={pipelineHref(run.metadata.name)}
            className="run-name"
            title={`The history of ${run.metadata.name}: its recent runs, job by job`}
          >
            {run.metadata.name}
          </Link>
        )}
        <Link href={href} className="mono muted run-uid" title={`Run ${uid}`}>
          {shortUid(uid)}
        </Link>
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
