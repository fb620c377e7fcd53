/**
 * Watches on the wire: HTTP 200 with a chunked body of JSON lines `{"type", "object"}`; a
 * resourceVersion that was compacted away is answered, as the real watch cache does, with one
 * ERROR event carrying a 410 Expired Status; `timeoutSeconds` ends the watch; bookmarks are sent
 * when asked for.
 */
import type { Ctx } from './http-util.ts';
import { isTrue } from './http-util.ts';
import { statuses } from './status.ts';
import type { KubeObject, Resource, Store } from './store.ts';

export interface OpenWatch {
  /** Ends the watch as a compaction does: an ERROR 410 event, then the end of the body. */
  expire(oldest: number): void;
  /** Ends the body cleanly, as when the API server closes a watch. */
  close(): void;
}

export function serveWatch(
  ctx: Ctx,
  store: Store,
  resource: Resource,
  kind: { kind: string; apiVersion: string },
  matches: (o: KubeObject) => boolean,
  open: Set<OpenWatch>,
  bookmarkMs: number,
  lagMs = 0,
): void {
  const { res, url } = ctx;
  ctx.answered = 200;
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
  res.flushHeaders(); // the client's request resolves on headers, before any event
  const writeLine = (line: string) => res.writableEnded || res.write(`${line}\n`);
  const write = (type: string, object: unknown) => writeLine(JSON.stringify({ type, object }));
  const from = url.searchParams.get('resourceVersion') ?? '';
  // Serialized at the change: the event says what the object was then, whenever it is sent.
  const send = (type: string, object: unknown) => {
    const line = JSON.stringify({ type, object });
    if (lagMs > 0) setTimeout(() => writeLine(line), lagMs);
    else writeLine(line);
  };
  const started = store.watch(resource, matches, from, send);
  if (!started.ok) {
    write('ERROR', statuses.expired(started.expired.requested, started.expired.oldest));
    res.end();
    return;
  }
  const timers: NodeJS.Timeout[] = [];
  const handle: OpenWatch = {
    expire(oldest) {
      write('ERROR', statuses.expired(from || '0', oldest));
      handle.close();
    },
    close() {
      started.stop();
      for (const t of timers) clearTimeout(t);
      open.delete(handle);
      if (!res.writableEnded) res.end();
    },
  };
  open.add(handle);
  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
  if (timeout > 0) timers.push(setTimeout(() => handle.close(), timeout * 1000));
  if (isTrue(url.searchParams.get('allowWatchBookmarks')))
    timers.push(
      setInterval(
        () => write('BOOKMARK', { ...kind, metadata: { resourceVersion: store.currentRv() } }),
        bookmarkMs,
      ),
    );
  res.on('close', () => handle.close());
}
