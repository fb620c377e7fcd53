/**
 * How long an HTTP service waits for a client to send its request. Fastify sets no limit by
 * default (its requestTimeout is 0), so a client that sends its headers or its body a byte at a
 * time holds a connection, and the memory of its request, for as long as it likes: many such
 * clients exhaust the server. Here the headers must arrive within one time and the whole request
 * within another, or the connection is answered 408 and closed. These bound the request only:
 * an answer may take as long as it needs (a followed log, an event stream).
 */
export interface HttpTimeouts {
  /** From a request's first byte to the end of its headers (CHAINR_HEADERS_TIMEOUT). */
  headersMs: number;
  /** From a request's first byte to the end of its body (CHAINR_REQUEST_TIMEOUT). */
  requestMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000 };

/**
 * Node checks the connections against these timeouts every so often (every 30 s by default): a
 * check every second cuts a slow client off within a second of its timeout.
 */
const CHECK_INTERVAL_MS = 1000;

/** Fastify's server options for the timeouts. */
export function serverTimeouts(timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS) {
  return {
    requestTimeout: timeouts.requestMs,
    http: {
      headersTimeout: timeouts.headersMs,
      connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, timeouts.headersMs),
    },
  };
}
