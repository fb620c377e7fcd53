/**
 * How many long-lived streams (followed logs, event streams) one sched serves at once, in all
 * and per client (a token, or an address without one). A stream costs no Redis connection of its
 * own (the log and event hubs fan one reader out), but it holds a socket and a buffer.
 */
import type { FastifyReply } from 'fastify';
import { HttpError } from '../../http/errors.ts';

export interface StreamLimitSettings {
  /** Streams open at once on this process (CHAINR_MAX_STREAMS). */
  total: number;
  /** Streams open at once for one token or address (CHAINR_MAX_STREAMS_PER_CLIENT). */
  perClient: number;
  /**
   * Bytes sent to one stream's reader and not yet taken by it, past which the reader is
   * disconnected (CHAINR_STREAM_BUFFER_BYTES): what one stream may hold of sched's memory.
   */
  bufferBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimitSettings = {
  total: 1000,
  perClient: 100,
  bufferBytes: 256 * 1024,
};

/** The least CHAINR_STREAM_BUFFER_BYTES may be: a few events. */
export const MIN_STREAM_BUFFER_BYTES = 4096;

/** Seconds a refused client is told to wait (Retry-After). */
const RETRY_AFTER_S = 5;

export class StreamLimits {
  private open = 0;
  private readonly byClient = new Map<string, number>();

  constructor(readonly settings: StreamLimitSettings = DEFAULT_STREAM_LIMITS) {}

  /**
   * Counts a stream of `client` as open until the returned function is called (once is enough;
   * more calls do nothing). Refuses one past a limit: 429 past the client's, 503 past the total,
   * each with Retry-After.
   */
  admit(client: string, reply: FastifyReply): () => void {
    const { total, perClient } = this.settings;
    const mine = this.byClient.get(client) ?? 0;
    const refusal =
      mine >= perClient
        ? new HttpError(
            429,
            `too many streams open for this client (${perClient}): close one (a followed log, an event stream) or retry later`,
          )
        : this.open >= total
          ? new HttpError(
              503,
              `this server has ${total} streams open, its limit: retry later or on another instance`,
            )
          : undefined;
    if (refusal) {
      void reply.header('retry-after', String(RETRY_AFTER_S));
      throw refusal;
    }
    this.open += 1;
    this.byClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left === 0) this.byClient.delete(client);
      else this.byClient.set(client, left);
    };
  }
}
