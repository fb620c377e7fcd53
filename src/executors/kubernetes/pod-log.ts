/**
 * Streams a pod's log (`pods/{name}/log?follow=true`) into the job's log, surviving dropped
 * connections and API server restarts without losing or repeating lines (log-cursor.ts).
 *
 * The request is made here with node:https and the KubeConfig's TLS and credentials rather than
 * with client-node's Log: in 1.4 its Log pipes the response into the caller's stream, and when
 * the connection breaks mid-stream nothing is signalled, so a broken follow looked like a quiet one.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { backoffDelay, sleep, type Backoff } from './backoff.ts';
import { classifyApiError, type ApiFailure } from './errors.ts';
import { LogCursor, type LogPosition } from './log-cursor.ts';
import { retryAfterSeconds, type ApiRateLimiter } from './rate-limit.ts';

export interface PodLogOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  /** Where an earlier reader of this log stopped (a worker re-attaching): read on from there. */
  from?: LogPosition;
  /** A line, and where the log stands once it is delivered. */
  onLine(text: string, position: LogPosition | undefined): void;
  /**
   * Resolves true as soon as the container is known to have ended (then a cleanly ended stream
   * is the whole log), false if it is not within `ms` or `signal` aborts.
   */
  containerEnded(ms: number, signal: AbortSignal): Promise<boolean>;
  /** The log cannot be read (403...): said once, then following stops. */
  onUnreadable(failure: ApiFailure): void;
  backoff: Backoff;
  limiter: ApiRateLimiter;
  /** The request has had its turn at the rate limiter and is sent; then it is answered (each time). */
  progress?(step: 'sent' | 'answered'): void;
  signal: AbortSignal;
}

/** One GET of the log; resolves when the server ends the body, rejects when it breaks. */
async function streamOnce(o: PodLogOptions, cursor: LogCursor, signal: AbortSignal): Promise<void> {
  const cluster = o.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(
    `${cluster.server}/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods/${encodeURIComponent(o.pod)}/log`,
  );
  url.searchParams.set('container', o.container);
  url.searchParams.set('follow', 'true');
  url.searchParams.set('timestamps', 'true');
  const since = cursor.since();
  if (since !== undefined) url.searchParams.set('sinceTime', since);
  const options: RequestOptions = {};
  await o.kubeConfig.applyToHTTPSOptions(options);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  await o.limiter.acquire('read', signal);
  o.progress?.('sent');
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { ...options, method: 'GET', signal }, resolve);
    req.on('error', reject);
    req.end();
  });
  if (response.statusCode !== 200) {
    if (response.statusCode === 429)
      o.limiter.rejected(retryAfterSeconds(response.headers['retry-after']));
    let body = '';
    for await (const chunk of response) body += String(chunk);
    throw Object.assign(new Error(`HTTP ${response.statusCode}`), {
      code: response.statusCode,
      body,
    });
  }
  o.progress?.('answered');
  cursor.resume();
  const deliver = (line: string) => {
    const text = cursor.accept(line);
    if (text !== undefined) o.onLine(text, cursor.position());
  };
  // Lines end with \n only (a \r is part of a line, as in progress bars), and a line cut off by a
  // broken connection is not delivered: it is read whole from the resumed position.
  let partial = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) deliver(line);
  });
  await new Promise<void>((resolve, reject) => {
    response.on('end', () => {
      if (partial !== '') deliver(partial);
      resolve();
    });
    response.on('error', reject);
    // A connection cut mid-body: 'aborted' (and no 'end').
    response.on('aborted', () => reject(new Error('log stream interrupted')));
    response.on('close', () =>
      response.complete ? resolve() : reject(new Error('log stream interrupted')),
    );
  });
}

/** Follows the log until the container has ended and its log is read, or `signal` aborts. */
export async function followPodLog(o: PodLogOptions): Promise<void> {
  const cursor = new LogCursor(o.from);
  let failures = 0;
  while (!o.signal.aborted) {
    try {
      await streamOnce(o, cursor, o.signal);
      failures = 0;
      // A log ends as its container does, usually just before the pod's report of it arrives:
      // that report is awaited a moment rather than the log read again.
      if (await o.containerEnded(REPORT_WAIT_MS, o.signal)) return;
      // Ended while the container runs (a proxy's timeout): read on from where it stopped.
    } catch (err) {
      if (o.signal.aborted) return;
      const failure = classifyApiError(err);
      if (failure.kind === 'not-found') return; // the pod is gone, and its log with it
      if (failure.kind === 'forbidden' || (failure.kind === 'fatal' && !isWaitingToStart(err)))
        return o.onUnreadable(failure);
      // Waiting to start (400), unreachable, restarting: try again.
      await sleep(backoffDelay(o.backoff, failures++), o.signal);
    }
  }
}

const REPORT_WAIT_MS = 2000;

/** 400 "container ... is waiting to start": the container has not started yet. */
function isWaitingToStart(err: unknown): boolean {
  const e = err as { code?: unknown; body?: unknown };
  return e.code === 400 && typeof e.body === 'string' && e.body.includes('waiting to start');
}
