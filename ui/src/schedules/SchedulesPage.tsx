/** The pipelines that run on a schedule: when next, paused or not, their runs; pause, resume, delete. */
import { useEffect, useState } from 'react';
import { Link } from '../app/router.tsx';
import { runsHref, submitHref } from '../app/routes.ts';
import { deleteSchedule, listSchedules, pauseSchedule, resumeSchedule } from '../shared/api.ts';
import { useCapabilities } from '../shared/capabilities-context.tsx';
import { ConfirmDialog } from '../shared/ConfirmDialog.tsx';
import { formatRelative, formatTimestamp, plural } from '../shared/format.ts';
import { Empty, ErrorBanner, ErrorState, Loading } from '../shared/states.tsx';
import type { Schedule } from '../../../src/api/wire.ts';
import { useNow } from '../shared/use-now.ts';
import { useResource } from '../shared/use-resource.ts';

/** The runs list filtered to a schedule's runs (its `runs` link carries the label selector). */
export function scheduleRunsHref(schedule: Schedule): string | undefined {
  if (!schedule.runs) return undefined;
  const query = schedule.runs.split('?')[1];
  const selector = query ? new URLSearchParams(query).get('selector') : null;
  return selector ? runsHref(new URLSearchParams({ selector }).toString()) : undefined;
}

function ScheduleRow({
  schedule,
  now,
  onChanged,
  onDelete,
  onError,
}: {
  schedule: Schedule;
  now: number;
  onChanged: (s: Schedule) => void;
  onDelete: (s: Schedule) => void;
  onError: (err: unknown) => void;
}) {
  const capabilities = useCapabilities();
  const [busy, setBusy] = useState(false);
  const runs = scheduleRunsHref(schedule);
  const toggle = async () => {
    setBusy(true);
    try {
      const id = schedule.metadata.uid;
      onChanged(await (schedule.paused ? resumeSchedule(id) : pauseSchedule(id)));
    } catch (err) {
      onError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-schedule={schedule.metadata.uid}>
      <td>
        <strong>{schedule.metadata.name ?? schedule.pipeline.metadata?.name ?? 'unnamed'}</strong>
      </td>
      <td className="mono">{schedule.cron}</td>
      <td>{schedule.timezone ?? 'UTC'}</td>
      <td title={formatTimestamp(schedule.nextRunAt)}>
        {schedule.paused ? (
          <span className="badge status-canceled">Paused</span>
        ) : (
          formatRelative(schedule.nextRunAt, now)
        )}
      </td>
      <td>{plural(Object.keys(schedule.pipeline.jobs).length, 'job')}</td>
      <td>{runs ? <Link href={runs}>Runs</Link> : '—'}</td>
      <td className="row-actions">
        {capabilities.pauseSchedule && (
          <button
            type="button"
            className="button button-small"
            disabled={busy}
            onClick={() => void toggle()}
          >
            {schedule.paused ? 'Resume' : 'Pause'}
          </button>
        )}
        {capabilities.deleteSchedule && (
          <button
            type="button"
            className="button button-small button-danger-outline"
            onClick={() => onDelete(schedule)}
          >
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

export function SchedulesPage() {
  const list = useResource((signal) => listSchedules(signal), []);
  const now = useNow(true, 30_000);
  const [deleting, setDeleting] = useState<Schedule>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    document.title = 'Schedules · chainr';
  }, []);
  const replace = (next: Schedule) =>
    list.set(
      (current) =>
        current && {
          ...current,
          items: current.items.map((s) => (s.metadata.uid === next.metadata.uid ? next : s)),
        },
    );

  const remove = async (schedule: Schedule) => {
    setBusy(true);
    try {
      await deleteSchedule(schedule.metadata.uid);
      list.set(
        (current) =>
          current && {
            ...current,
            items: current.items.filter((s) => s.metadata.uid !== schedule.metadata.uid),
          },
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setDeleting(undefined);
    }
  };

  return (
    <section className="page" aria-labelledby="schedules-title">
      <header className="page-header">
        <h1 id="schedules-title">Schedules</h1>
        <div className="spacer" />
        <button type="button" className="button" onClick={list.reload}>
          Refresh
        </button>
      </header>
      {error !== undefined && <ErrorBanner error={error} onDismiss={() => setError(undefined)} />}
      {list.data === undefined && list.loading ? (
        <Loading what="schedules" />
      ) : list.data === undefined ? (
        <ErrorState
          title="The schedules could not be loaded"
          error={list.error}
          onRetry={list.reload}
        />
      ) : list.data.items.length === 0 ? (
        <Empty title="No schedules">
          <span>
            Write a pipeline on the Submit page and choose “Schedule…” to run it periodically.
          </span>
          <Link href={submitHref} className="button">
            Submit page
          </Link>
        </Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Cron</th>
              <th scope="col">Time zone</th>
              <th scope="col">Next run</th>
              <th scope="col">Pipeline</th>
              <th scope="col">Runs</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((s) => (
              <ScheduleRow
                key={s.metadata.uid}
                schedule={s}
                now={now}
                onChanged={replace}
                onDelete={setDeleting}
                onError={setError}
              />
            ))}
          </tbody>
        </table>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete the schedule “${deleting.metadata.name ?? deleting.metadata.uid}”?`}
          confirmLabel="Delete"
          danger
          busy={busy}
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        >
          No more runs are created by it. The runs it already created stay.
        </ConfirmDialog>
      )}
    </section>
  );
}
