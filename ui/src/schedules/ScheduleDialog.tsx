/** Schedules a pipeline to run periodically: a name, a cron expression and a time zone. */
import { useEffect, useRef, useState } from 'react';
import { api } from '../shared/api.ts';
import { ErrorBanner } from '../shared/states.tsx';
import type { Pipeline } from '../../../src/core/types.ts';
import type { NewSchedule, Schedule } from '../../../src/api/wire.ts';
import { cronProblem, localTimeZone } from './cron.ts';

export interface ScheduleDialogProps {
  pipeline: Pipeline;
  params?: Record<string, string>;
  onCreated: (schedule: Schedule) => void;
  onCancel: () => void;
}

export function ScheduleDialog({ pipeline, params, onCreated, onCancel }: ScheduleDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState(pipeline.metadata?.name ?? '');
  const [cron, setCron] = useState('0 3 * * *');
  const [timezone, setTimezone] = useState(localTimeZone);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const problem = cronProblem(cron);
  useEffect(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }, []);

  const create = async () => {
    if (problem) return;
    setBusy(true);
    setError(undefined);
    const body: NewSchedule = {
      cron: cron.trim(),
      pipeline,
      ...(name.trim() && { name: name.trim() }),
      ...(timezone.trim() && { timezone: timezone.trim() }),
      ...(params && Object.keys(params).length > 0 && { params }),
    };
    try {
      onCreated(await api.createSchedule(body));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="schedule-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="schedule-title">Schedule this pipeline</h2>
      <form
        className="dialog-form"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <label className="field">
          <span>Name</span>
          <input
            type="text"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="nightly-load"
          />
        </label>
        <label className="field">
          <span>Cron</span>
          <input
            type="text"
            className="mono"
            value={cron}
            onChange={(e) => setCron(e.target.value)}
            aria-invalid={problem !== undefined}
            aria-describedby="cron-help"
            autoFocus
          />
          <span id="cron-help" className={problem ? 'field-error' : 'field-help'}>
            {problem ?? 'minute hour day-of-month month day-of-week'}
          </span>
        </label>
        <label className="field">
          <span>Time zone</span>
          <input
            type="text"
            value={timezone}
            onChange={(e) => setTimezone(e.target.value)}
            placeholder="UTC"
          />
        </label>
        {error !== undefined && <ErrorBanner error={error} />}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={busy || problem !== undefined}
          >
            {busy ? 'Scheduling…' : 'Create schedule'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
