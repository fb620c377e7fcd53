/**
 * The outgoing buffer of a long-lived answer (an event stream, a followed log), bounded. Node
 * keeps whatever a socket has not yet sent in memory, without limit: a reader that stops reading
 * while events keep coming made sched hold every event produced meanwhile, for each such reader.
 * Here a reader whose unsent bytes would pass the bound is disconnected instead, as the
 * Kubernetes API server closes a watch that falls behind: the reader connects again and resumes
 * (an event stream with Last-Event-ID, a run's stream with a fresh snapshot), and what it
 * missed is read from Redis, which holds it anyway, rather than from sched's memory.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { streamReadersDroppedTotal } from '../../http/ops/metrics.ts';

/** Which stream a reader was reading, as the dropped-readers metric labels it. */
export type StreamKind = 'events' | 'run' | 'log';

export interface ReaderBuffer {
  /**
   * Sends `chunk`, or disconnects the reader when its unsent bytes would pass the bound. False
   * once the reader is disconnected (or gone).
   */
  write(chunk: string): boolean;
  /**
   * Sends `chunk` and resolves once the reader has taken most of what waits for it, or left: for
   * a backlog that exists at once (a replay, a log read from its start, a large snapshot), which
   * a reader in good health takes at its own pace rather than within the bound.
   */
  paced(chunk: string): Promise<void>;
  /** Disconnects the reader as one that fell behind. */
  drop(): void;
}

export function readerBuffer(
  res: ServerResponse,
  limitBytes: number,
  kind: StreamKind,
  log: FastifyBaseLogger,
): ReaderBuffer {
  const drop = () => {
    if (res.destroyed) return;
    streamReadersDroppedTotal.inc({ stream: kind });
    log.info(
      { stream: kind, unsentBytes: res.writableLength, limitBytes },
      'a stream reader fell behind; disconnected (it resumes where it stopped when it connects again)',
    );
    // Destroyed rather than ended: an end would wait, holding the buffer, for a reader that may
    // never read again. What it had not read yet, it reads again when it resumes.
    res.destroy();
  };
  return {
    write(chunk) {
      if (res.destroyed) return false;
      // A chunk larger than the bound alone still reaches a reader that took all the rest.
      const unsent = res.writableLength;
      if (unsent > 0 && unsent + Buffer.byteLength(chunk) > limitBytes) {
        drop();
        return false;
      }
      res.write(chunk);
      return true;
    },
    async paced(chunk) {
      if (res.destroyed || res.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
    drop,
  };
}
