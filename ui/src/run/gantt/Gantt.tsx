/** The run's timeline: a row per job, a bar from its start to its end, live while it runs. */
import { elapsed, formatDuration } from '../../shared/format.ts';
import { statusClass, statusLabel } from '../../shared/status.ts';
import { StatusIcon } from '../../shared/StatusBadge.tsx';
import type { Job } from '../../../../src/api/wire.ts';
import { useNow } from '../../shared/use-now.ts';
import { ganttModel, tickLabel, timeTicks } from './gantt.ts';

const LISTED = 12;

function notStartedSummary(jobs: readonly Job[]): string {
  const listed = jobs
    .slice(0, LISTED)
    .map((j) => `${j.name} (${statusLabel(j.status).toLowerCase()})`);
  const rest = jobs.length - LISTED;
  return rest > 0 ? `${listed.join(', ')} and ${rest} more` : listed.join(', ');
}

export interface GanttProps {
  jobs: readonly Job[];
  selected?: string;
  onSelect: (job: string) => void;
}

export function Gantt({ jobs, selected, onSelect }: GanttProps) {
  const running = jobs.some((j) => j.status === 'RUNNING');
  const now = useNow(running, 500);
  const model = ganttModel(jobs, now);
  const ticks = timeTicks(model.span);
  const pct = (ms: number) => `${(ms / model.span) * 100}%`;
  const byName = new Map(jobs.map((j) => [j.name, j]));

  if (model.bars.length === 0)
    return <div className="state state-empty">No job has started yet.</div>;
  return (
    <div className="gantt" role="table" aria-label="Timeline of the jobs">
      <div className="gantt-row gantt-axis" role="row">
        <span className="gantt-name" role="columnheader">
          Job
        </span>
        <span
          className="gantt-track"
          role="columnheader"
          aria-label="Time since the first job started"
        >
          {ticks.map((t) => (
            <span key={t} className="gantt-tick" style={{ left: pct(t) }}>
              {tickLabel(t)}
            </span>
          ))}
        </span>
      </div>
      <div className="gantt-grid" aria-hidden="true">
        {ticks.map((t) => (
          <span key={t} className="gantt-gridline" style={{ left: pct(t) }} />
        ))}
      </div>
      {model.bars.map((bar) => {
        const job = byName.get(bar.name);
        const took = elapsed(job?.startedAt, job?.finishedAt, now) ?? 0;
        return (
          <button
            type="button"
            role="row"
            key={bar.name}
            className={`gantt-row ${bar.name === selected ? 'selected' : ''}`}
            onClick={() => onSelect(bar.name)}
            data-job={bar.name}
            aria-label={`${bar.name}: ${statusLabel(bar.status)}, ${formatDuration(took)}`}
          >
            <span className="gantt-name" role="cell">
              <StatusIcon status={bar.status} />
              {bar.name}
            </span>
            <span className="gantt-track" role="cell">
              <span
                className={`gantt-bar ${statusClass(bar.status)} ${bar.open ? 'open' : ''}`}
                style={{ left: pct(bar.start), width: `max(2px, ${pct(bar.end - bar.start)})` }}
              />
              <span
                className="gantt-duration"
                style={
                  bar.end / model.span > 0.8
                    ? { right: `calc(${100 - (bar.start / model.span) * 100}% + 4px)` }
                    : { left: `calc(${pct(bar.end)} + 4px)` }
                }
              >
                {formatDuration(took)}
              </span>
            </span>
          </button>
        );
      })}
      {model.notStarted.length > 0 && (
        <p className="gantt-footnote muted">Not started: {notStartedSummary(model.notStarted)}</p>
      )}
    </div>
  );
}
