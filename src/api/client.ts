/**
 * The typed client of the chainr HTTP API that the CLI and the web UI both use. Built on the
 * standard `fetch` and web streams only, so that it runs in Node and in the browser alike; its
 * answers are the wire types (wire.ts). Every failure is one of two errors: ApiError (the server
 * answered an error) or UnreachableError (no answer, or the connection broke), so that each
 * caller can word them its own way.
 */
import type {
  ArtifactList,
  ErrorBody,
  ErrorDetail,
  InstanceList,
  NewSchedule,
  PipelineTrends,
  Run,
  RunCounts,
  RunList,
  Schedule,
  ScheduleList,
  TransitionEvent,
} from './wire.ts';
import { SseParser } from './sse.ts';

/** The server answered an error: its status, and its Error body's message and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** The Error body as the server sent it; absent when the answer was not the API's. */
    readonly body?: ErrorBody,
  ) {
    super(message);
  }
}

/** No answer from the server, or the connection broke while reading one. */
export class UnreachableError extends Error {
  constructor(
    /** The server's address; empty for the page's own origin. */
    readonly server: string,
    /** Why, in a few words (`connection refused`, `timed out`). */
    readonly reason: string,
  ) {
    super(`cannot reach the chainr server${server ? ` at ${server}` : ''} (${reason})`);
  }
}

/** What a run's event stream carries, as the client reads it. */
export type RunStreamItem =
  { kind: 'snapshot'; run: Run } | { kind: 'transition'; event: TransitionEvent } | { kind: 'end' };

export interface RunQuery {
  limit?: number;
  continue?: string;
  /** A run status, in any case (`failed` or `FAILED`). */
  status?: string;
  name?: string;
  selector?: string;
  /** The start or end of a uid */
  uid?: string;
}

export type PipelineFormat = 'json' | 'yaml';

export interface ClientOptions {
  /** The server's address, `http://127.0.0.1:8080`; empty (the default) for the page's own origin. */
  server?: string;
  /** The bearer token to send, or how to read the current one (it changes while a page is open). */
  token?: string | (() => string | undefined);
  /** How long a request that is not a stream waits for its whole answer; no limit by default. */
  timeoutMs?: number;
  /** Told of every 401 answer (before the ApiError is thrown): the UI then asks for a token. */
  onUnauthorized?: () => void;
}

/** Cancels a request that is no longer wanted (its page closed, Ctrl-C). */
export interface Cancelable {
  signal?: AbortSignal;
}

export const ALL_EVENTS_PATH = '/api/events';
export const runPath = (uid: string) => `/api/runs/${encodeURIComponent(uid)}`;
export const runEventsPath = (uid: string) => `${runPath(uid)}/events`;
const jobPath = (uid: string, job: string) => `${runPath(uid)}/jobs/${encodeURIComponent(job)}`;

/** Where one artifact of a job is downloaded from (a directory as a tar archive). */
export const jobArtifactPath = (uid: string, job: string, name: string) =>
  `${jobPath(uid, job)}/artifacts/${encodeURIComponent(name)}`;

export interface JobLogOptions {
  /** Followed until the job (or the attempt) ends. */
  follow?: boolean;
  /** Only this attempt's lines. */
  attempt?: number;
  /** Lines already read, left out (resuming after a dropped connection). */
  skip?: number;
}

export function jobLogPath(uid: string, job: string, options: JobLogOptions = {}): string {
  const query = new URLSearchParams();
  if (options.follow) query.set('follow', 'true');
  if (options.attempt !== undefined) query.set('attempt', String(options.attempt));
  if (options.skip) query.set('skip', String(options.skip));
  const search = query.toString();
  return `${jobPath(uid, job)}/logs${search === '' ? '' : `?${search}`}`;
}
const schedulePath = (id: string) => `/api/schedules/${encodeURIComponent(id)}`;

export function runsPath(query: RunQuery = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const qs = search.toString();
  return `/api/runs${qs ? `?${qs}` : ''}`;
}

export class ChainrClient {
  readonly server: string;
  private readonly token: () => string | undefined;
  private readonly timeoutMs: number | undefined;
  private readonly onUnauthorized: (() => void) | undefined;

  constructor(options: ClientOptions = {}) {
    this.server = options.server ?? '';
    const { token } = options;
    this.token = typeof token === 'function' ? token : () => token;
    this.timeoutMs = options.timeoutMs;
    this.onUnauthorized = options.onUnauthorized;
  }

  // ---- runs ----

  /** Submits a pipeline object (checked by the server), with parameter values when given. */
  submit(pipeline: unknown, params?: Record<string, string>): Promise<Run> {
    const body = params && Object.keys(params).length > 0 ? { pipeline, params } : pipeline;
    return this.json<Run>('POST', '/api/runs', { body: JSON.stringify(body), type: 'json' });
  }

  /** Submits a pipeline as the text the user wrote, so that errors point at its lines. */
  submitText(text: string, format: PipelineFormat): Promise<Run> {
    return this.json<Run>('POST', '/api/runs', { body: text, type: format });
  }

  listRuns(query: RunQuery = {}, options: Cancelable = {}): Promise<RunList> {
    return this.json<RunList>('GET', runsPath(query), options);
  }

  getRun(uid: string, options: Cancelable = {}): Promise<Run> {
    return this.json<Run>('GET', runPath(uid), options);
  }

  countRuns(options: Cancelable = {}): Promise<RunCounts> {
    return this.json<RunCounts>('GET', '/api/runs/counts', options);
  }

  /** A pipeline's trends over the last `days` UTC days (the server's default when not given). */
  pipelineTrends(name: string, days?: number, options: Cancelable = {}): Promise<PipelineTrends> {
    const query = days === undefined ? '' : `?days=${days}`;
    return this.json<PipelineTrends>(
      'GET',
      `/api/pipelines/${encodeURIComponent(name)}/trends${query}`,
      options,
    );
  }

  /** `force`: stop the run's cleanup jobs too (a first cancel lets them run). */
  cancelRun(uid: string, force = false): Promise<Run> {
    return this.json<Run>('POST', `${runPath(uid)}/cancel${force ? '?force=true' : ''}`);
  }

  retryRun(uid: string): Promise<Run> {
    return this.json<Run>('POST', `${runPath(uid)}/retry`);
  }

  resubmitRun(uid: string): Promise<Run> {
    return this.json<Run>('POST', `${runPath(uid)}/resubmit`);
  }

  // ---- logs and artifacts ----

  /** A job's log, or one attempt's, as bytes once the server has answered. */
  async openJobLog(
    uid: string,
    job: string,
    options: JobLogOptions & { signal: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.request('GET', jobLogPath(uid, job, options), {
      signal: options.signal,
    });
    return res.body ?? emptyStream();
  }

  /** A job's log, or one attempt's, as text chunks. */
  async *jobLog(
    uid: string,
    job: string,
    options: JobLogOptions & Cancelable = {},
  ): AsyncGenerator<string> {
    // Aborted when the consumer stops early, so that the connection does not linger.
    const done = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, done.signal]) : done.signal;
    try {
      yield* this.text(await this.openJobLog(uid, job, { ...options, signal }), signal);
    } finally {
      done.abort();
    }
  }

  /** A job's whole log, as a file to save. */
  async jobLogFile(uid: string, job: string, options: Cancelable = {}): Promise<Blob> {
    const res = await this.request('GET', jobLogPath(uid, job), options);
    return res.blob();
  }

  listArtifacts(uid: string, job: string): Promise<ArtifactList> {
    return this.json<ArtifactList>('GET', `${jobPath(uid, job)}/artifacts`);
  }

  /** An artifact's bytes, streamed (a directory's as a tar archive). */
  async artifact(
    uid: string,
    job: string,
    name: string,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.request('GET', jobArtifactPath(uid, job, name), {
      signal,
      accept: '*/*',
    });
    return res.body ?? emptyStream();
  }

  /** An artifact's bytes, as a file to save. */
  async artifactFile(uid: string, job: string, name: string): Promise<Blob> {
    const res = await this.request('GET', jobArtifactPath(uid, job, name), { accept: '*/*' });
    return res.blob();
  }

  // ---- schedules ----

  listSchedules(options: Cancelable = {}): Promise<ScheduleList> {
    return this.json<ScheduleList>('GET', '/api/schedules', options);
  }

  createSchedule(schedule: NewSchedule): Promise<Schedule> {
    return this.json<Schedule>('POST', '/api/schedules', {
      body: JSON.stringify(schedule),
      type: 'json',
    });
  }

  pauseSchedule(id: string): Promise<Schedule> {
    return this.json<Schedule>('POST', `${schedulePath(id)}/pause`);
  }

  resumeSchedule(id: string): Promise<Schedule> {
    return this.json<Schedule>('POST', `${schedulePath(id)}/resume`);
  }

  /** Deletes a schedule; answers it as it was. */
  deleteSchedule(id: string): Promise<Schedule> {
    return this.json<Schedule>('DELETE', schedulePath(id));
  }

  // ---- operations and discovery ----

  listInstances(options: Cancelable = {}): Promise<InstanceList> {
    return this.json<InstanceList>('GET', '/api/instances', options);
  }

  /** The OpenAPI document, from which the UI learns what this server offers. */
  openApi(options: Cancelable = {}): Promise<Record<string, unknown>> {
    return this.json<Record<string, unknown>>('GET', '/api/openapi.json', options);
  }

  // ---- event streams ----

  /**
   * An event stream's body (`ALL_EVENTS_PATH`, `runEventsPath(uid)`), resumed after `lastEventId`
   * when given. Reconnecting is the caller's: each follows a stream its own way.
   */
  async openEvents(
    path: string,
    options: { lastEventId?: string; signal: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.request('GET', path, {
      signal: options.signal,
      accept: 'text/event-stream',
      ...(options.lastEventId && { lastEventId: options.lastEventId }),
    });
    if (!res.body) throw new UnreachableError(this.server, 'the event stream has no body');
    return res.body;
  }

  /**
   * A run's event stream: its snapshot, then its transitions, then `end`. Ends when the server
   * closes the stream; `idleMs` bounds the silence tolerated (the server sends a keep-alive
   * every 15 s), so that a half-dead connection ends in an UnreachableError rather than a hang.
   */
  async *runEvents(
    uid: string,
    options: { idleMs?: number } & Cancelable = {},
  ): AsyncGenerator<RunStreamItem> {
    const idle = new AbortController();
    const done = new AbortController();
    const signal = AbortSignal.any(
      [idle.signal, done.signal, options.signal].filter((s) => s !== undefined),
    );
    const idleMs = options.idleMs ?? 45_000;
    let timer = setTimeout(() => idle.abort(), idleMs);
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), idleMs);
    };
    try {
      const res = await this.request('GET', runEventsPath(uid), {
        signal,
        accept: 'text/event-stream',
      });
      const parser = new SseParser();
      for await (const chunk of this.text(res.body ?? emptyStream(), signal)) {
        rearm();
        for (const message of parser.push(chunk)) {
          const item = toStreamItem(message.event, message.data, message.id);
          if (item) yield item;
        }
      }
    } catch (err) {
      if (idle.signal.aborted) {
        throw new UnreachableError(this.server, `no event or keep-alive for ${idleMs / 1000} s`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      done.abort();
    }
  }

  // ---- plumbing ----

  private async json<T>(
    method: string,
    path: string,
    options: { body?: string; type?: PipelineFormat } & Cancelable = {},
  ): Promise<T> {
    const timeout = this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs);
    const signals = [timeout, options.signal].filter((s) => s !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    let status = 0;
    let text: string;
    try {
      const res = await this.request(method, path, { ...options, signal });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (timeout?.aborted && !options.signal?.aborted) {
        throw new UnreachableError(this.server, `no answer within ${this.timeoutMs! / 1000} s`);
      }
      throw err instanceof ApiError || err instanceof UnreachableError || signal?.aborted
        ? err
        : new UnreachableError(this.server, networkReason(err));
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        status,
        `the server answered something that is not JSON: ${excerpt(text)}`,
      );
    }
  }

  private async request(
    method: string,
    path: string,
    options: {
      signal?: AbortSignal | undefined;
      accept?: string;
      body?: string;
      type?: PipelineFormat;
      lastEventId?: string;
    },
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (options.type) headers['content-type'] = `application/${options.type}`;
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers,
        body: options.body,
        signal: options.signal,
        // An event stream is read as it is now, never from a cache.
        ...(options.accept === 'text/event-stream' && { cache: 'no-store' }),
      });
    } catch (err) {
      throw this.failure(err, options.signal);
    }
    if (res.status === 401) this.onUnauthorized?.();
    if (!res.ok) throw await toApiError(res);
    return res;
  }

  /** An aborted request's error is its caller's to explain; any other is a network failure. */
  private failure(err: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return err instanceof Error ? err : new Error(String(err));
    return new UnreachableError(this.server, networkReason(err));
  }

  /** Bytes as text chunks; a caller that stops early aborts its request, which ends the connection. */
  private async *text(
    body: ReadableStream<Uint8Array>,
    signal: AbortSignal,
  ): AsyncGenerator<string> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const read = await reader.read().catch((err: unknown) => {
        throw this.failure(err, signal);
      });
      if (read.done) break;
      const chunk = decoder.decode(read.value, { stream: true });
      if (chunk) yield chunk;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }
}

const emptyStream = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

function isErrorBody(value: unknown): value is ErrorBody {
  const body = value as Partial<ErrorBody> | null;
  return (
    typeof body === 'object' &&
    body !== null &&
    body.kind === 'Error' &&
    typeof body.error === 'string'
  );
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a proxy's page, say; described below
  }
  if (isErrorBody(body)) {
    return new ApiError(
      res.status,
      body.error,
      Array.isArray(body.details) ? body.details : [],
      body,
    );
  }
  const message = `the server answered ${res.status} ${res.statusText}`;
  return new ApiError(res.status, text.trim() ? `${message}: ${excerpt(text)}` : message);
}

const excerpt = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 200);

function toStreamItem(event: string, data: string, id?: string): RunStreamItem | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined; // not an event of this API; ignoring it keeps old clients working
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (event === 'end') return { kind: 'end' };
  if (event === 'run' && (value as { kind?: unknown }).kind === 'Run') {
    return { kind: 'snapshot', run: value as Run };
  }
  if (event === 'run' || event === 'job') {
    const transition = value as TransitionEvent;
    return { kind: 'transition', event: id && !transition.id ? { ...transition, id } : transition };
  }
  return undefined;
}

/** Why a request got no answer, in a few words (`connection refused`, `timed out`). */
export function networkReason(err: unknown): string {
  // Node's fetch throws "fetch failed"; what happened is in its cause
  const cause =
    err instanceof Error
      ? (err.cause as { code?: string; message?: string } | undefined)
      : undefined;
  const code = cause?.code ?? (err as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection lost';
  if (err instanceof Error && (err.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT'))
    return 'timed out';
  if (err instanceof Error && err.message === 'terminated') return 'connection lost';
  return code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
