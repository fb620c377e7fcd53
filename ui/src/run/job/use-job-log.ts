/**
 * A job's log, fetched once when the job has ended, followed live while it runs. A retried job's
 * log is read an attempt at a time, each attempt's lines after a marker row of its own. A read
 * whose connection drops is asked for again without the lines it already has, until it ends.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../../../../src/api/client.ts';
import type { JobAttempt } from '../../../../src/api/wire.ts';
import { api, errorMessage } from '../../shared/api.ts';
import { sleep } from '../../shared/sleep.ts';
import { appendChunk, appendMarker, EMPTY_LOG, finish, type LogLines } from './log-lines.ts';

export type LogState =
  'waiting' | 'retrying' | 'loading' | 'following' | 'reconnecting' | 'complete' | 'error';

export interface JobLog {
  log: LogLines;
  state: LogState;
  error?: string;
}

/** How often arriving text is handed to React. */
const FLUSH_MS = 100;

/** The wait before asking again for a read whose connection dropped: doubled each time, to 10 s. */
const reconnectDelay = (tries: number) => Math.min(1000 * 2 ** tries, 10_000);

const newlines = (text: string) => {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count += 1;
  return count;
};

/** One request: the whole log (a job's only attempt so far), or one attempt's. */
interface Read {
  attempt?: number;
  follow: boolean;
}

/**
 * What to read: with one attempt so far, the log; after a retry, each attempt up to the current
 * one (the one still waiting to start, while retrying, has nothing yet).
 */
function reads(current: number, phase: 'pending' | 'running' | 'ended'): Read[] {
  if (current === 1) return [{ follow: phase === 'running' }];
  const last = phase === 'pending' ? current - 1 : current;
  return Array.from({ length: last }, (_, i) => ({
    attempt: i + 1,
    follow: phase === 'running' && i + 1 === current,
  }));
}

export function useJobLog(
  uid: string,
  job: string,
  phase: 'pending' | 'running' | 'ended',
  attempt: number | undefined,
  attempts: readonly JobAttempt[] | undefined,
): JobLog {
  const [result, setResult] = useState<JobLog>({ log: EMPTY_LOG, state: 'loading' });
  const current = attempt ?? 1;
  // The attempts' start times, as the run last said: read when a marker is made, not a reason
  // to read the log again.
  const startTimes = useRef(attempts);
  startTimes.current = attempts;
  // The log is read again for a new job or attempt and when a waiting attempt starts, not when
  // a followed job ends.
  const readPhase = phase === 'ended' ? 'running' : phase;

  useEffect(() => {
    if (readPhase === 'pending' && current === 1) {
      setResult({ log: EMPTY_LOG, state: 'waiting' });
      return;
    }
    const plan = reads(current, phase);
    const following = plan.some((r) => r.follow);
    const controller = new AbortController();
    let log = EMPTY_LOG;
    let timer: number | undefined;
    const flush = () => {
      timer = undefined;
      setResult({ log, state: following ? 'following' : 'loading' });
    };
    setResult({ log, state: 'loading' });
    void (async () => {
      try {
        for (const read of plan) {
          if (read.attempt !== undefined) {
            const started = startTimes.current?.find((a) => a.attempt === read.attempt)?.startedAt;
            log = appendMarker(log, read.attempt, started);
          }
          // Whole lines of this read so far: left out when it is asked for again.
          let readLines = 0;
          for (let tries = 0; ; tries += 1) {
            try {
              const stream = await api.openJobLog(uid, job, {
                ...read,
                skip: readLines,
                signal: controller.signal,
              });
              const reader = stream.getReader();
              const decoder = new TextDecoder();
              tries = 0;
              if (read.follow) setResult({ log, state: 'following' });
              for (;;) {
                const { value, done } = await reader.read();
                if (done) break;
                const text = decoder.decode(value, { stream: true });
                readLines += newlines(text);
                log = appendChunk(log, text);
                timer ??= window.setTimeout(flush, FLUSH_MS);
              }
              log = appendChunk(log, decoder.decode());
              break;
            } catch (err) {
              // An answer of the server's is final; a dropped connection is not.
              if (controller.signal.aborted || err instanceof ApiError) throw err;
              // Its unfinished line comes again, whole, with what follows it.
              log = { ...log, partial: '' };
              window.clearTimeout(timer);
              timer = undefined;
              setResult({ log, state: 'reconnecting' });
              await sleep(reconnectDelay(tries), controller.signal);
              if (controller.signal.aborted) return;
            }
          }
          log = finish(log);
        }
        window.clearTimeout(timer);
        setResult({ log, state: readPhase === 'pending' ? 'retrying' : 'complete' });
      } catch (err) {
        if (controller.signal.aborted) return;
        window.clearTimeout(timer);
        setResult({ log, state: 'error', error: errorMessage(err) });
      }
    })();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
    // `phase` is read as `readPhase`: a followed job that ends is not read again.
  }, [uid, job, current, readPhase]);

  return result;
}
