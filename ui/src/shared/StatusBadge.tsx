/** A status as a coloured pill with an icon, readable without colour too. */
import { statusClass, statusLabel, type AnyStatus } from './status.ts';

const ICONS: Record<AnyStatus, string> = {
  PENDING: '○',
  RUNNING: '◐',
  SUCCESSFUL: '✓',
  FAILED: '✕',
  SKIPPED: '⤼',
  CANCELED: '⊘',
};

/** The icon of a status, as text. */
export const statusIcon = (status: AnyStatus) => ICONS[status] ?? '?';

export function StatusIcon({ status }: { status: AnyStatus }) {
  return (
    <span className={`status-icon ${statusClass(status)}`} aria-hidden="true">
      {statusIcon(status)}
    </span>
  );
}

export function StatusBadge({ status, compact = false }: { status: AnyStatus; compact?: boolean }) {
  return (
    <span className={`badge ${statusClass(status)}`} data-status={status}>
      <StatusIcon status={status} />
      {compact ? (
        <span className="visually-hidden">{statusLabel(status)}</span>
      ) : (
        statusLabel(status)
      )}
    </span>
  );
}
