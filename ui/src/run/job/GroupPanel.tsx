/** A fan-out group's panel: its status, counts by status and instances, each opening its own panel. */
import { Link } from '../../app/router.tsx';
import { runHref, type RunView } from '../../app/routes.ts';
import type { Job, Run } from '../../../../src/api/wire.ts';
import { countByStatus, groupStatus, type FanOutGroup } from '../../../../src/core/fan-out.ts';
import { elapsed, formatDuration } from '../../shared/format.ts';
import { statusLabel } from '../../shared/status.ts';
import { StatusIcon } from '../../shared/StatusBadge.tsx';
import { useNow } from '../../shared/use-now.ts';
import { PanelHeader } from './PanelHeader.tsx';

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
  const kind = group.kind === 'matrix' ? 'A matrix job' : 'A forEach job';
  return (
    <aside className="job-panel" aria-labelledby="job-panel-title" data-group={group.name}>
      <PanelHeader status={status} name={group.name} onClose={onClose} />
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
