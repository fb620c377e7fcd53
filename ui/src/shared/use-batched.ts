/** Collects items arriving quickly (e.g. events) and hands them over in batches. */
import { useCallback, useEffect, useRef } from 'react';

export function useBatched<T>(flush: (items: T[]) => void, delayMs = 100): (item: T) => void {
  const queue = useRef<T[]>([]);
  const timer = useRef<number | undefined>(undefined);
  const flushRef = useRef(flush);
  flushRef.current = flush;

  useEffect(
    () => () => {
      if (timer.current !== undefined) window.clearTimeout(timer.current);
    },
    [],
  );

  return useCallback(
    (item: T) => {
      queue.current.push(item);
      if (timer.current !== undefined) return;
      timer.current = window.setTimeout(() => {
        timer.current = undefined;
        const items = queue.current;
        queue.current = [];
        flushRef.current(items);
      }, delayMs);
    },
    [delayMs],
  );
}

/** Runs `fn` at most once per `intervalMs`, the last call winning (trailing edge). */
export function useThrottled(fn: () => void, intervalMs: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const last = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  useEffect(
    () => () => {
      if (timer.current !== undefined) window.clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current !== undefined) return;
    const wait = Math.max(0, last.current + intervalMs - Date.now());
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      last.current = Date.now();
      fnRef.current();
    }, wait);
  }, [intervalMs]);
}
