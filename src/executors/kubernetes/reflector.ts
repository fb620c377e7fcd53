/**
 * Feeds a view of a set of objects the way client-go's reflector does: list, then watch from the
 * list's resourceVersion (with bookmarks, which move that position on without an object). A closed
 * watch resumes from the last resourceVersion seen; a 410 Expired (history compacted; as an event
 * or as the answer) relists; an unreachable or failing API server is retried with backoff. Only a
 * failure retrying cannot fix (403, 400...) ends it, through onFatal. The view itself is the
 * caller's (informer.ts): a list replaces it, an event changes one object.
 */
import type { Watch } from '@kubernetes/client-node';
import { backoffDelay, sleep, type Backoff } from './backoff.ts';
import { classifyApiError, type ApiFailure } from './errors.ts';

export interface Named {
  metadata?: { name?: string; resourceVersion?: string };
}

export interface ReflectorOptions<T extends Named> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  watch: Watch;
  /** The collection's path, e.g. /apis/batch/v1/namespaces/ns/jobs. */
  path: string;
  /** labelSelector and/or fieldSelector. */
  query: Record<string, string>;
  backoff: Backoff;
  /** Asked of the server; a watch silent for 30 s longer than this is dropped and renewed. */
  watchTimeoutSeconds: number;
  /** The whole set, as listed: replaces what was known. */
  onList(objects: T[]): void;
  /** One object added, changed or deleted. */
  onEvent(type: WatchEventType, object: T): void;
  onFatal(failure: ApiFailure): void;
  /** Awaited before each watch request (the rate limiter); lists are limited by their client. */
  beforeWatch?(): Promise<void>;
  /** A retried failure, for the logs. */
  onRetry?(message: string): void;
  signal: AbortSignal;
}

type WatchEnd = 'closed' | 'expired';
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

const asError = (err: unknown): Error =>
  err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'watch failed');

/** Runs until `signal` aborts or a fatal failure. */
export async function reflect<T extends Named>(o: ReflectorOptions<T>): Promise<void> {
  const position: { rv?: string } = {};
  let failures = 0;
  while (!o.signal.aborted) {
    try {
      if (position.rv === undefined) {
        const listed = await o.list();
        position.rv = listed.resourceVersion;
        o.onList(listed.items);
      }
      await o.beforeWatch?.();
      const startedAt = Date.now();
      const end = await watchOnce(o, position, () => (failures = 0));
      if (end === 'expired') position.rv = undefined;
      // A watch the server ends at once, again and again, must not become a busy loop.
      else if (Date.now() - startedAt < 1000)
        await sleep(backoffDelay(o.backoff, failures++), o.signal);
    } catch (err) {
      const failure = classifyApiError(err);
      // Some API servers answer a too-old resourceVersion with HTTP 410 rather than an event.
      if (failure.kind === 'expired') {
        position.rv = undefined;
        continue;
      }
      if (failure.kind !== 'retry') return o.onFatal(failure);
      o.onRetry?.(failure.message);
      await sleep(backoffDelay(o.backoff, failures++), o.signal);
    }
  }
}

function watchOnce<T extends Named>(
  o: ReflectorOptions<T>,
  position: { rv?: string },
  connected: () => void,
): Promise<WatchEnd> {
  return new Promise<WatchEnd>((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (end: WatchEnd | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      o.signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (end instanceof Error) reject(end);
      else resolve(end);
    };
    const onAbort = () => finish('closed');
    o.signal.addEventListener('abort', onAbort, { once: true });
    const watchdog = setTimeout(() => finish('closed'), (o.watchTimeoutSeconds + 30) * 1000);
    const onEvent = (type: string, object: T & { code?: number; message?: string }) => {
      if (settled) return;
      if (type === 'ERROR') {
        if (object.code === 410) return finish('expired');
        return finish(
          Object.assign(new Error(object.message ?? 'watch error'), {
            code: object.code,
            body: object,
          }),
        );
      }
      const rv = object.metadata?.resourceVersion;
      if (rv) position.rv = rv;
      if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') o.onEvent(type, object);
    };
    const query = {
      ...o.query,
      resourceVersion: position.rv ?? '',
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(o.watchTimeoutSeconds),
    };
    o.watch
      .watch(o.path, query, onEvent, (err: unknown) => finish(err ? asError(err) : 'closed'))
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
          else connected();
        },
        (err: unknown) => finish(asError(err)),
      );
  });
}
