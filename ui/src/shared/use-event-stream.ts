/**
 * A Server-Sent Events subscription tied to a component's life, with its connection state.
 * Read with `fetch` (so that it carries the bearer token when auth is on) and resumed after a
 * network error with Last-Event-ID, backing off up to 15 s.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../../../src/api/client.ts';
import { SseParser, type SseMessage } from '../../../src/api/sse.ts';
import { api } from './api.ts';
import { sleep } from './sleep.ts';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StreamControl {
  /** Stops listening, for good. */
  close: () => void;
}

export type StreamHandler = (type: string, data: unknown, control: StreamControl) => void;

const MAX_DELAY_MS = 15_000;

/** Listens to `types` on the SSE endpoint at `url` (none while `url` is undefined). */
export function useEventStream(
  url: string | undefined,
  types: readonly string[],
  handler: StreamHandler,
): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const typesKey = types.join(',');

  useEffect(() => {
    if (url === undefined) {
      setState('closed');
      return;
    }
    const wanted = new Set(typesKey.split(','));
    const controller = new AbortController();
    const { signal } = controller;
    const control: StreamControl = {
      close() {
        controller.abort();
        setState('closed');
      },
    };
    let lastId: string | undefined;
    const parser = new SseParser();
    const receive = (message: SseMessage) => {
      if (message.id !== undefined) lastId = message.id;
      if (!wanted.has(message.event) || signal.aborted) return;
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return; // not ours to interpret
      }
      handlerRef.current(message.event, data, control);
    };

    void (async () => {
      let delay = 1000;
      for (let attempt = 0; !signal.aborted; attempt++) {
        setState(attempt === 0 ? 'connecting' : 'reconnecting');
        try {
          const body = await api.openEvents(url, { signal, lastEventId: lastId });
          setState('open');
          delay = 1000;
          const reader = body.getReader();
          const decoder = new TextDecoder();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.push(decoder.decode(value, { stream: true })).forEach(receive);
          }
        } catch (err) {
          // Asking again will not help: no access, or nothing there.
          if (
            err instanceof ApiError &&
            err.status >= 400 &&
            err.status < 500 &&
            err.status !== 429
          ) {
            setState('closed');
            return;
          }
          // a dropped connection: try again below
        }
        if (signal.aborted) return;
        setState('reconnecting');
        await sleep(delay, signal);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    })();
    return () => controller.abort();
  }, [url, typesKey]);

  return state;
}
