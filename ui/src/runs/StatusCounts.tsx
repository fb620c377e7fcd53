/** How many runs are in each status; a click filters by it when the server can. */
import { RUN_STATUS_ORDER, statusClass, statusLabel } from '../shared/status.ts';
import type { RunStatus } from '../../../src/core/types.ts';
import type { RunCounts } from '../../../src/api/wire.ts';

export interface StatusCountsProps {
  counts: RunCounts['counts'];
  selected: RunStatus | undefined;
  onSelect?: (status: RunStatus | undefined) => void;
}

export function StatusCounts({ counts, selected, onSelect }: StatusCountsProps) {
  const total = RUN_STATUS_ORDER.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const chip = (status: RunStatus | undefined, label: string, count: number) => {
    const active = selected === status;
    const className = `count-chip ${status ? statusClass(status) : ''} ${active ? 'active' : ''}`;
    const content = (
      <>
        <span className="count-label">{label}</span>
        <span className="count-value">{count.toLocaleString()}</span>
      </>
    );
    return onSelect ? (
      <button
        key={label}
        type="button"
        className={className}
        aria-pressed={active}
        onClick={() => onSelect(status)}
      >
        {content}
      </button>
    ) : (
      <span key={label} className={className}>
        {content}
      </span>
    );
  };
  return (
    <div className="counts" aria-label="Runs by status">
      {chip(undefined, 'All', total)}
      {RUN_STATUS_ORDER.map((s) => chip(s, statusLabel(s), counts[s] ?? 0))}
    </div>
  );
}
