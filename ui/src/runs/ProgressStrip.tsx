/** A run's jobs as one bar: a segment per status, as wide as its share of the jobs. */
import { JOB_STATUS_ORDER, statusClass, statusLabel } from '../shared/status.ts';
import type { Job } from '../../../src/api/wire.ts';
import { jobCounts } from '../shared/run-events.ts';

export function progressSummary(jobs: readonly Job[]): string {
  const counts = jobCounts(jobs);
  const ended = jobs.length - counts.PENDING - counts.RUNNING;
  const parts = JOB_STATUS_ORDER.filter((s) => counts[s] > 0).map(
    (s) => `${counts[s]} ${statusLabel(s).toLowerCase()}`,
  );
  return `${ended} of ${jobs.length} jobs ended${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

export function ProgressStrip({ jobs }: { jobs: readonly Job[] }) {
  const counts = jobCounts(jobs);
  const ended = jobs.length - counts.PENDING - counts.RUNNING;
  const summary = progressSummary(jobs);
  return (
    <div className="progress" title={summary}>
      <div className="progress-bar" role="img" aria-label={summary}>
        {JOB_STATUS_ORDER.filter((s) => counts[s] > 0).map((s) => (
          <span
            key={s}
            className={`progress-segment ${statusClass(s)}`}
            style={{ flexGrow: counts[s] }}
          />
        ))}
      </div>
      <span className="progress-count">
        {ended}/{jobs.length}
      </span>
    </div>
  );
}
