/** Thin typed calls to the chainr API. Every failure is an ApiError with the server's message. */
import { authHeaders, reportUnauthorized } from './auth.ts';
import type { PipelineError, RunStatus } from '../../../src/core/types.ts';
import type {
  ErrorBody,
  InstanceList,
  NewSchedule,
  Run,
  RunCounts,
  RunList,
  Schedule,
  ScheduleList,
} from '../../../src/api/wire.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: PipelineError[] = [],
  ) {
    super(message);
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return typeof value === 'object' && value !== null && (value as ErrorBody).kind === 'Error';
}

/** `fetch` with the bearer token, when there is one; a 401 asks the user for a token. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...init.headers } });
  if (res.status === 401) reportUnauthorized();
  return res;
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) return new ApiError(res.status, body.error, body.details ?? []);
  return new ApiError(res.status, text.trim() || `${res.status} ${res.statusText}`);
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await apiFetch(path, {
      ...init,
      headers: { accept: 'application/json', ...init.headers },
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'chainr is not reachable; check that it is running');
  }
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export interface RunQuery {
  limit?: number;
  continue?: string;
  status?: RunStatus;
  name?: string;
  selector?: string;
}

export function runsPath(query: RunQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `/api/runs${qs ? `?${qs}` : ''}`;
}

export const listRuns = (query: RunQuery, signal?: AbortSignal) =>
  request<RunList>(runsPath(query), { signal });

export const getRun = (uid: string, signal?: AbortSignal) =>
  request<Run>(`/api/runs/${encodeURIComponent(uid)}`, { signal });

export async function countRuns(signal?: AbortSignal): Promise<RunCounts['counts']> {
  const body = await request<RunCounts>('/api/runs/counts', { signal });
  return body.counts;
}

export type PipelineFormat = 'json' | 'yaml';

/** Submits a pipeline as the text the user wrote, so errors point at its lines. */
export const submitPipelineText = (text: string, format: PipelineFormat) =>
  request<Run>('/api/runs', {
    method: 'POST',
    headers: { 'content-type': format === 'json' ? 'application/json' : 'application/yaml' },
    body: text,
  });

/** Submits a pipeline with parameter values (`{pipeline, params}`). */
export const submitPipelineWithParams = (pipeline: unknown, params: Record<string, string>) =>
  request<Run>('/api/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pipeline, params }),
  });

const runAction = (uid: string, action: 'cancel' | 'retry' | 'resubmit') =>
  request<Run>(`/api/runs/${encodeURIComponent(uid)}/${action}`, { method: 'POST' });

export const cancelRun = (uid: string) => runAction(uid, 'cancel');
export const retryRun = (uid: string) => runAction(uid, 'retry');
export const resubmitRun = (uid: string) => runAction(uid, 'resubmit');

export interface JobLogOptions {
  /** Followed until the job (or the attempt) ends. */
  follow?: boolean;
  /** Only this attempt's lines. */
  attempt?: number;
}

export function jobLogPath(uid: string, job: string, options: JobLogOptions = {}): string {
  const path = `/api/runs/${encodeURIComponent(uid)}/jobs/${encodeURIComponent(job)}/logs`;
  const query = new URLSearchParams();
  if (options.follow) query.set('follow', 'true');
  if (options.attempt !== undefined) query.set('attempt', String(options.attempt));
  const search = query.toString();
  return search === '' ? path : `${path}?${search}`;
}

/** The job's log, or one attempt's, as a stream of text. */
export async function openJobLog(
  uid: string,
  job: string,
  options: JobLogOptions,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const res = await apiFetch(jobLogPath(uid, job, options), { signal });
  if (!res.ok) throw await failure(res);
  if (!res.body) throw new ApiError(res.status, 'the log response has no body');
  return res.body;
}

/** The whole answer of a GET as a file to save (the browser keeps it, on disk when large). */
async function downloadBlob(path: string): Promise<Blob> {
  const res = await apiFetch(path);
  if (!res.ok) throw await failure(res);
  return res.blob();
}

/** The job's whole log as a file to save. */
export const downloadJobLog = (uid: string, job: string) => downloadBlob(jobLogPath(uid, job));

/** Where one artifact of a job is downloaded from (a directory as a tar archive). */
export const jobArtifactPath = (uid: string, job: string, name: string) =>
  `/api/runs/${encodeURIComponent(uid)}/jobs/${encodeURIComponent(job)}/artifacts/${encodeURIComponent(name)}`;

/** One artifact's bytes as a file to save. */
export const downloadJobArtifact = (uid: string, job: string, name: string) =>
  downloadBlob(jobArtifactPath(uid, job, name));

export const getOpenApi = (signal?: AbortSignal) =>
  request<Record<string, unknown>>('/api/openapi.json', { signal });

export const listSchedules = (signal?: AbortSignal) =>
  request<ScheduleList>('/api/schedules', { signal });

export const createSchedule = (schedule: NewSchedule) =>
  request<Schedule>('/api/schedules', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(schedule),
  });

const schedulePath = (id: string) => `/api/schedules/${encodeURIComponent(id)}`;

export const pauseSchedule = (id: string) =>
  request<Schedule>(`${schedulePath(id)}/pause`, { method: 'POST' });
export const resumeSchedule = (id: string) =>
  request<Schedule>(`${schedulePath(id)}/resume`, { method: 'POST' });

export async function deleteSchedule(id: string): Promise<void> {
  const res = await apiFetch(schedulePath(id), { method: 'DELETE' });
  if (!res.ok) throw await failure(res);
}

export const listInstances = (signal?: AbortSignal) =>
  request<InstanceList>('/api/instances', { signal });

export const runEventsPath = (uid: string) => `/api/runs/${encodeURIComponent(uid)}/events`;
export const allEventsPath = '/api/events';

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
