/** The header of the job and group panels: status, name and Close. */
import { useEffect, useRef } from 'react';
import { StatusBadge } from '../../shared/StatusBadge.tsx';
import type { AnyStatus } from '../../shared/status.ts';

export function PanelHeader({
  status,
  name,
  onClose,
}: {
  status: AnyStatus;
  name: string;
  onClose: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  // A keyboard user lands on the panel that opened, not where the click was.
  useEffect(() => {
    heading.current?.focus();
  }, [name]);
  return (
    <header className="job-panel-header">
      <StatusBadge status={status} />
      <h2 id="job-panel-title" ref={heading} tabIndex={-1}>
        {name}
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
  );
}
