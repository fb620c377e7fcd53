/** A job's log, fetched once when the job has ended, followed live while it runs. */
import { useEffect, useState } from 'react';
import { errorMessage, openJobLog } from '../../shared/api.ts';
import { appendChunk, EMPTY_LOG, finish, type LogLines } from './log-lines.ts';

export type LogState = 'waiting' | 'loading' | 'following' | 'complete' | 'error';

export interface JobLog {
  log: LogLines;
  state: LogState;
  error?: string;
}

/** How often arriving text is handed to React. */
const FLUSH_MS = 100;

export function useJobLog(
  uid: string,
  job: string,
  phase: 'pending' | 'running' | 'ended',
  attempt: number | undefined,
): JobLog {
  const [result, setResult] = useState<JobLog>({ log: EMPTY_LOG, state: 'loading' });
  const started = phase !== 'pending';

  useEffect(() => {
    if (!started) {
      setResult({ log: EMPTY_LOG, state: 'waiting' });
      return;
    }
    const follow = phase === 'running';
    const controller = new AbortController();
    let log = EMPTY_LOG;
    let timer: number | undefined;
    const flush = () => {
      timer = undefined;
      setResult({ log, state: follow ? 'following' : 'loading' });
    };
    setResult({ log, state: 'loading' });
    void (async () => {
      try {
        const stream = await openJobLog(uid, job, follow, controller.signal);
        const reader = stream.getReader();
        const decoder = new TextDecoder();
        if (follow) setResult({ log, state: 'following' });
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          log = appendChunk(log, decoder.decode(value, { stream: true }));
          timer ??= window.setTimeout(flush, FLUSH_MS);
        }
        window.clearTimeout(timer);
        log = finish(appendChunk(log, decoder.decode()));
        setResult({ log, state: 'complete' });
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
    // The log is read again only for a new job or attempt, not when a followed job ends.
  }, [uid, job, attempt, started]);

  return result;
}
