/** A fan-out group's panel: its status, counts by status and instances, each opening its own panel. */
import { useEffect, useRef } from 'react';
import { Link } from '../../app/router.tsx';
import { runHref, type RunView } from '../../app/routes.ts';
import type { Job, Run } from '../../../../src/api/wire.ts';
import { countByStatus, groupStatus, type FanOutGroup } from '../../../../src/core/fan-out.ts';
import { elapsed, formatDuration } from '../../shared/format.ts';
import { statusLabel } from '../../shared/status.ts';
import { StatusBadge, StatusIcon } from '../../shared/StatusBadge.tsx';
import { useNow } from '../../shared/use-now.ts';

export interface GroupPanelProps {
  run: Run;
  group: FanOutGroup;
  view: RunView;
  onClose: () => void;
}

export function GroupPanel({ run, group, view, onClose }: GroupPanelProps) {
  const byName = new Map(run.jobs.map((j) => [j.name, j]));
  const instances = group.instances.map(
    (name): Job => byName.get(name) ?? { name, status: 'PENDING' },
  );
  const statuses = instances.map((j) => j.status);
  const status = groupStatus(statuses);
  const now = useNow(status === 'RUNNING');
  // A forEach job is a job of the run too: why it ended as it did (which instances failed).
  const reason = byName.get(group.name)?.reason;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [group.name]);
  const kind = group.kind === 'matrix' ? 'A matrix job' : 'A forEach job';
  return (
    <aside className="job-panel" aria-labelledby="job-panel-title" data-group={group.name}>
      <header className="job-panel-header">
        <StatusBadge status={status} />
        <h2 id="job-panel-title" ref={heading} tabIndex={-1}>
          {group.name}
        </h2>
        <div className="spacer" />
        <button
          type="button"
          className="icon-button"
          onClick={onClose}
          aria-label="Close the job panel (Escape)"
          title="Close (Esc)"
        >
          ×
        </button>
      </header>
      <p>
        {kind} of {instances.length} instances:{' '}
        {countByStatus(statuses)
          .map(([s, n]) => `${n} ${statusLabel(s).toLowerCase()}`)
          .join(', ')}
      </p>
      {reason && (
        <p className={`job-reason ${status === 'FAILED' ? 'job-reason-failed' : ''}`}>{reason}</p>
      )}
      <ul className="group-instances" aria-label={`Instances of ${group.name}`}>
        {instances.map((job) => {
          const took = elapsed(job.startedAt, job.finishedAt, now);
          return (
            <li key={job.name} data-status={job.status}>
              <StatusIcon status={job.status} />
              <Link href={runHref(run.metadata.uid, { job: job.name, view })} replace>
                {job.name}
              </Link>
              <span className="muted">
                {statusLabel(job.status)}
                {took !== undefined && ` · ${formatDuration(took)}`}
              </span>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
