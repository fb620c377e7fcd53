/**
 * What a notification says: the stream entry read back, the event it is (`failure`, `job-retry`,
 * ...), and the payload every medium renders (the webhook sends it as it is). Pure.
 */
import type { JobStatus, NotificationEvent, RunStatus } from '../../core/types.ts';

/** One entry of the event stream (`src/store/lua/includes.lua` `emit`). */
export interface StreamEvent {
  /** The stream entry id. */
  id: string;
  uid: string;
  job?: string;
  attempt?: number;
  status: RunStatus | JobStatus;
  reason?: string;
  /** ms since epoch */
  time: number;
}

export function parseStreamEntry(id: string, fields: readonly string[]): StreamEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
  const attempt = f.attempt === undefined ? NaN : Number(f.attempt);
  return {
    id,
    uid: f.uid ?? '',
    ...(f.job !== undefined && { job: f.job }),
    ...(Number.isInteger(attempt) && { attempt }),
    status: (f.status ?? 'PENDING') as StreamEvent['status'],
    ...(f.reason !== undefined && f.reason !== '' && { reason: f.reason }),
    time: Number(f.time),
  };
}

const RUN_EVENTS: Partial<Record<string, NotificationEvent>> = {
  RUNNING: 'start',
  SUCCESSFUL: 'success',
  FAILED: 'failure',
  CANCELED: 'canceled',
};

const JOB_EVENTS: Partial<Record<string, NotificationEvent>> = {
  RUNNING: 'job-start',
  SUCCESSFUL: 'job-success',
  FAILED: 'job-failure',
  SKIPPED: 'job-skipped',
  CANCELED: 'job-canceled',
};

/**
 * The notification event a stream entry is, if any. A job that becomes PENDING again at a later
 * attempt is being retried; a run's PENDING (its creation) notifies nobody.
 */
export function eventOf(e: StreamEvent): NotificationEvent | undefined {
  if (e.job === undefined) return RUN_EVENTS[e.status];
  if (e.status === 'PENDING') return (e.attempt ?? 1) > 1 ? 'job-retry' : undefined;
  return JOB_EVENTS[e.status];
}

/** What notif knows of the run an event belongs to. */
export interface RunContext {
  name?: string;
  labels: Record<string, string>;
  /** The jobs that failed, with why (for a run's failure). */
  failedJobs?: { name: string; reason?: string }[];
}

export interface Notification {
  event: NotificationEvent;
  /** The event stream entry this notification is about. */
  eventId: string;
  /** ISO 8601 time of the transition. */
  time: string;
  status: RunStatus | JobStatus;
  reason?: string;
  /** One line saying what happened, e.g. `Run of nightly-etl failed: job "load" failed`. */
  summary: string;
  run: {
    uid: string;
    name?: string;
    labels: Record<string, string>;
    /** The run in the UI. */
    link: string;
    /** The run in the API, relative to the server. */
    selfLink: string;
  };
  job?: { name: string; attempt?: number; link: string };
  failedJobs?: { name: string; reason?: string }[];
}

const VERBS: Record<NotificationEvent, string> = {
  start: 'started',
  success: 'succeeded',
  failure: 'failed',
  canceled: 'was canceled',
  end: 'ended',
  'job-start': 'started',
  'job-success': 'succeeded',
  'job-failure': 'failed',
  'job-skipped': 'was skipped',
  'job-canceled': 'was canceled',
  'job-retry': 'will be retried',
};

/** The pipeline's name, or the run's uid when the pipeline has none. */
export function runTitle(run: { uid: string; name?: string }): string {
  return run.name ?? `run ${run.uid}`;
}

export function summarize(
  event: NotificationEvent,
  run: { uid: string; name?: string },
  job?: { name: string; attempt?: number },
  reason?: string,
): string {
  const subject = job
    ? `Job "${job.name}" of ${runTitle(run)}`
    : run.name
      ? `Run of ${run.name}`
      : `Run ${run.uid}`;
  const attempt = event === 'job-retry' && job?.attempt ? ` (attempt ${job.attempt})` : '';
  return `${subject} ${VERBS[event]}${attempt}${reason ? `: ${reason}` : ''}`;
}

const segment = (s: string) => encodeURIComponent(s);

export function buildNotification(
  event: NotificationEvent,
  e: StreamEvent,
  run: RunContext,
  publicUrl: string,
): Notification {
  const link = `${publicUrl}/runs/${segment(e.uid)}`;
  const job =
    e.job === undefined
      ? undefined
      : {
          name: e.job,
          ...(e.attempt !== undefined && { attempt: e.attempt }),
          link: `${link}/jobs/${segment(e.job)}`,
        };
  const identity = { uid: e.uid, ...(run.name !== undefined && { name: run.name }) };
  return {
    event,
    eventId: e.id,
    time: new Date(e.time).toISOString(),
    status: e.status,
    ...(e.reason !== undefined && { reason: e.reason }),
    summary: summarize(event, identity, job, e.reason),
    run: { ...identity, labels: run.labels, link, selfLink: `/api/runs/${e.uid}` },
    ...(job && { job }),
    ...(event === 'failure' && run.failedJobs?.length && { failedJobs: run.failedJobs }),
  };
}
