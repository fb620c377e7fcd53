/**
 * The pipelines that run on a schedule: the cron in words, the next run times, the last run and
 * how it went, their runs; pause, resume, delete. The list is read again every few seconds.
 */
import cronstrue from 'cronstrue';
import { useEffect, useState } from 'react';
import { Link } from '../app/router.tsx';
import { runHref, runsHref, submitHref } from '../app/routes.ts';
import { api } from '../shared/api.ts';
import { useCapabilities } from '../shared/capabilities-context.tsx';
import { ConfirmDialog } from '../shared/ConfirmDialog.tsx';
import { formatClock, formatRelative, formatTimestamp, plural } from '../shared/format.ts';
import { StatusBadge } from '../shared/StatusBadge.tsx';
import { Empty, ErrorBanner, ErrorState, Loading } from '../shared/states.tsx';
import type { Schedule } from '../../../src/api/wire.ts';
import { useNow } from '../shared/use-now.ts';
import { useResource } from '../shared/use-resource.ts';
import { scheduleName } from './schedule-names.ts';

/** How often the list is read again: a tick's new run shows within this. */
const POLL_MS = 5000;

/** `At 03:00 AM` for `0 3 * * *`; the expression itself when it cannot be put in words. */
export function cronInWords(cron: string): string {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return cron;
  }
}

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
      onChanged(await (schedule.paused ? api.resumeSchedule(id) : api.pauseSchedule(id)));
    } catch (err) {
      onError(err);
    } finally {
      setBusy(false);
    }
  };
  const last = schedule.lastRun;
  const next = schedule.nextRunsAt ?? (schedule.nextRunAt ? [schedule.nextRunAt] : []);
  return (
    <tr data-schedule={schedule.metadata.uid}>
      <td>
        <strong>{scheduleName(schedule)}</strong>
      </td>
      <td>
        {schedule.pipeline.metadata?.name ?? <span className="muted">unnamed</span>}
        <div className="muted">{plural(Object.keys(schedule.pipeline.jobs).length, 'job')}</div>
      </td>
      <td>
        {cronInWords(schedule.cron)}
        <div className="muted">
          <span className="mono">{schedule.cron}</span> · {schedule.timezone ?? 'UTC'}
        </div>
      </td>
      <td>
        {schedule.paused ? (
          <span className="badge status-canceled">Paused</span>
        ) : (
          <ol className="plain-list" aria-label="Next runs">
            {next.map((at) => (
              <li key={at} title={formatTimestamp(at)}>
                {formatClock(at, now)} <span className="muted">({formatRelative(at, now)})</span>
              </li>
            ))}
          </ol>
        )}
      </td>
      <td>
        {last ? (
          <Link href={runHref(last.uid)} title={formatTimestamp(last.creationTimestamp)}>
            <StatusBadge status={last.status} /> {formatRelative(last.creationTimestamp, now)}
          </Link>
        ) : (
          <span className="muted">none yet</span>
        )}
      </td>
      <td>{runs ? <Link href={runs}>All runs</Link> : '—'}</td>
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
  const list = useResource((signal) => api.listSchedules({ signal }), []);
  const now = useNow(true, POLL_MS);
  const { reload } = list;
  useEffect(() => {
    const timer = window.setInterval(reload, POLL_MS);
    return () => window.clearInterval(timer);
  }, [reload]);
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
      await api.deleteSchedule(schedule.metadata.uid);
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
        <Link
          href={submitHref}
          className="button button-primary"
          title="Write or pick a pipeline on the Submit page, then choose “Schedule…”"
        >
          New schedule
        </Link>
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
              <th scope="col">Schedule</th>
              <th scope="col">Pipeline</th>
              <th scope="col">When</th>
              <th scope="col">Next runs</th>
              <th scope="col">Last run</th>
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
