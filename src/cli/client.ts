/**
 * A small typed client of the chainr HTTP API (global fetch). Every failure is one of two errors:
 * ApiError (the server answered an Error) or UnreachableError (no answer, or the connection broke),
 * so that commands can word them and choose the exit code.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type {
  ArtifactList,
  ErrorDetail,
  InstanceList,
  NewSchedule,
  Run,
  RunList,
  Schedule,
  ScheduleList,
  TransitionEvent,
} from '../api/wire.ts';
import type { RunStreamItem } from './api.ts';
import { ApiError, networkReason, UnreachableError } from './api.ts';
import { SseParser } from './sse.ts';
export interface ListQuery {
  limit?: number;
  continue?: string;
  status?: string;
  name?: string;
  selector?: string;
  /** The start or end of a uid */
  uid?: string;
}

export interface ClientOptions {
  server: string;
  token?: string;
  /** For requests that are not streams. */
  timeoutMs?: number;
}

export class ChainrClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.server = options.server;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  submit(pipeline: unknown, params?: Record<string, string>): Promise<Run> {
    const body = params && Object.keys(params).length > 0 ? { pipeline, params } : pipeline;
    return this.json<Run>('POST', '/api/runs', body);
  }

  listRuns(query: ListQuery = {}): Promise<RunList> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') search.set(key, String(value));
    }
    const qs = search.toString() ? `?${search.toString()}` : '';
    return this.json<RunList>('GET', `/api/runs${qs}`);
  }

  getRun(uid: string): Promise<Run> {
    return this.json<Run>('GET', runPath(uid));
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

  listArtifacts(uid: string, job: string): Promise<ArtifactList> {
    return this.json<ArtifactList>(
      'GET',
      `${runPath(uid)}/jobs/${encodeURIComponent(job)}/artifacts`,
    );
  }

  /** An artifact's bytes, streamed (a directory's as a tar archive). */
  async artifact(uid: string, job: string, name: string, signal: AbortSignal): Promise<Readable> {
    const path = `${runPath(uid)}/jobs/${encodeURIComponent(job)}/artifacts/${encodeURIComponent(name)}`;
    const res = await this.request('GET', path, signal, '*/*');
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  instances(): Promise<InstanceList> {
    return this.json<InstanceList>('GET', '/api/instances');
  }

  listSchedules(): Promise<ScheduleList> {
    return this.json<ScheduleList>('GET', '/api/schedules');
  }

  createSchedule(schedule: NewSchedule): Promise<Schedule> {
    return this.json<Schedule>('POST', '/api/schedules', schedule);
  }

  /** pause or resume a schedule; delete it (answering it as it was). */
  changeSchedule(id: string, change: 'pause' | 'resume' | 'delete'): Promise<Schedule> {
    const path = `/api/schedules/${encodeURIComponent(id)}`;
    return change === 'delete'
      ? this.json<Schedule>('DELETE', path)
      : this.json<Schedule>('POST', `${path}/${change}`);
  }

  /** A job's log as text chunks; with `follow`, until the job ends. */
  async *jobLog(
    uid: string,
    job: string,
    options: { follow?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<string> {
    const path = `${runPath(uid)}/jobs/${encodeURIComponent(job)}/logs`;
    // Aborted when the consumer stops early, so that the connection does not linger.
    const done = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, done.signal]) : done.signal;
    try {
      const res = await this.request('GET', options.follow ? `${path}?follow=true` : path, signal);
      yield* this.text(res, signal);
    } finally {
      done.abort();
    }
  }

  /**
   * A run's event stream: its snapshot, then its transitions, then `end`. Ends when the server
   * closes the stream; `idleMs` bounds the silence tolerated (the server sends a keep-alive
   * every 15 s), so that a half-dead connection ends in an UnreachableError rather than a hang.
   */
  async *runEvents(
    uid: string,
    options: { signal?: AbortSignal; idleMs?: number } = {},
  ): AsyncGenerator<RunStreamItem> {
    const idle = new AbortController();
    const done = new AbortController();
    const signal = AbortSignal.any(
      [idle.signal, done.signal, options.signal].filter((s) => s !== undefined),
    );
    const idleMs = options.idleMs ?? 45_000;
    const timer = setTimeout(() => idle.abort(), idleMs);
    try {
      const res = await this.request('GET', `${runPath(uid)}/events`, signal, 'text/event-stream');
      const parser = new SseParser();
      for await (const chunk of this.text(res, signal)) {
        timer.refresh();
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

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let status = 0;
    let text: string;
    try {
      const res = await this.request(method, path, timeout, 'application/json', body);
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (timeout.aborted) {
        throw new UnreachableError(this.server, `no answer within ${this.timeoutMs / 1000} s`);
      }
      throw err instanceof ApiError || err instanceof UnreachableError
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
    signal: AbortSignal,
    accept = 'application/json',
    body?: unknown,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      throw this.failure(err, signal);
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }

  /** An aborted request's error is its caller's to explain; any other is a network failure. */
  private failure(err: unknown, signal: AbortSignal): Error {
    if (signal.aborted) return err instanceof Error ? err : new Error(String(err));
    return new UnreachableError(this.server, networkReason(err));
  }

  private async *text(res: Response, signal: AbortSignal): AsyncGenerator<string> {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
        const chunk = decoder.decode(bytes, { stream: true });
        if (chunk) yield chunk;
      }
    } catch (err) {
      throw this.failure(err, signal);
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }
}

const runPath = (uid: string) => `/api/runs/${encodeURIComponent(uid)}`;

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { kind?: string; error?: unknown; details?: unknown };
    if (body.kind === 'Error' && typeof body.error === 'string') {
      const details = Array.isArray(body.details) ? (body.details as ErrorDetail[]) : [];
      return new ApiError(res.status, body.error, details);
    }
  } catch {
    // not JSON: a proxy's page, say; described below
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

/** `http://127.0.0.1:8080`; a bare `host:port` gets `http://`, a trailing slash is dropped. */
export function normalizeServer(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`not a server address: "${raw}" (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`not a server address: "${raw}" (expected http:// or https://)`);
  }
  return url.toString().replace(/\/+$/, '');
}
