/** A job's log with its toolbar: live state, search with next/previous, and the raw text. */
import { useDeferredValue, useMemo, useState } from 'react';
import { api, errorMessage } from '../../shared/api.ts';
import { saveBlob } from '../../shared/dom.ts';
import { plural } from '../../shared/format.ts';
import { findMatches, MAX_MATCHES } from './log-search.ts';
import { LogView } from './LogView.tsx';
import type { JobAttempt } from '../../../../src/api/wire.ts';
import { lineCount } from './log-lines.ts';
import { useJobLog } from './use-job-log.ts';

export interface JobLogProps {
  uid: string;
  job: string;
  phase: 'pending' | 'running' | 'ended';
  attempt?: number;
  /** Every attempt so far: where each begins in the log. */
  attempts?: readonly JobAttempt[];
}

const STATE_TEXT = {
  waiting: 'waiting for the job to start',
  retrying: 'waiting for the next attempt',
  loading: 'loading…',
  following: 'following',
  reconnecting: 'connection lost, reconnecting…',
  complete: 'complete',
  error: 'interrupted',
} as const;

/** Saves the log as a text file; answers what went wrong, if anything. */
async function save(uid: string, job: string): Promise<string | undefined> {
  try {
    saveBlob(await api.jobLogFile(uid, job), `${job}-${uid.slice(-8)}.log`);
    return undefined;
  } catch (err) {
    return `The log could not be downloaded: ${errorMessage(err)}`;
  }
}

export function JobLog({ uid, job, phase, attempt, attempts }: JobLogProps) {
  const { log, state, error } = useJobLog(uid, job, phase, attempt, attempts);
  const lines = lineCount(log);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  const matches = useMemo(() => findMatches(log.text, deferredQuery), [log.text, deferredQuery]);
  const [current, setCurrent] = useState(0);
  const [downloadError, setDownloadError] = useState<string>();
  const index = matches.length === 0 ? undefined : Math.min(current, matches.length - 1);
  const step = (delta: number) => {
    if (matches.length === 0) return;
    setCurrent(((index ?? 0) + delta + matches.length) % matches.length);
  };

  return (
    <section className="job-log" aria-label={`Log of ${job}`}>
      <div className="log-toolbar">
        <span className={`log-state log-state-${state}`} data-state={state}>
          {state === 'following' && <span className="live-dot" aria-hidden="true" />}
          {plural(lines, 'line')} · {STATE_TEXT[state]}
        </span>
        <div className="spacer" />
        <input
          type="search"
          className="log-search"
          placeholder="Search the log"
          aria-label="Search the log"
          value={query}
          onChange={(event) => {
            setQuery(event.target.value);
            setCurrent(0);
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter') {
              event.preventDefault();
              step(event.shiftKey ? -1 : 1);
            }
          }}
        />
        <span className="log-match-count numeric" aria-live="polite">
          {deferredQuery === ''
            ? ''
            : matches.length === 0
              ? 'no match'
              : `${(index ?? 0) + 1} / ${matches.length.toLocaleString()}${matches.length >= MAX_MATCHES ? '+' : ''}`}
        </span>
        <button
          type="button"
          className="icon-button"
          aria-label="Previous match"
          onClick={() => step(-1)}
          disabled={matches.length === 0}
        >
          ↑
        </button>
        <button
          type="button"
          className="icon-button"
          aria-label="Next match"
          onClick={() => step(1)}
          disabled={matches.length === 0}
        >
          ↓
        </button>
        <button
          type="button"
          className="button button-small"
          title="Save the whole log as a text file"
          onClick={() => void save(uid, job).then(setDownloadError)}
        >
          Download
        </button>
      </div>
      {downloadError && (
        <div className="banner banner-error" role="alert">
          {downloadError}
        </div>
      )}
      {error && (
        <div className="banner banner-error" role="alert">
          The log could not be read: {error}
        </div>
      )}
      {log.dropped > 0 && (
        <div className="banner">
          The first {log.dropped.toLocaleString()} lines are not shown; the downloaded log has them.
        </div>
      )}
      {state === 'waiting' ? (
        <div className="state state-empty">
          The job has not started yet; its log appears here when it does.
        </div>
      ) : state === 'complete' && log.text.length === 0 ? (
        <div className="state state-empty">The job wrote nothing to its log.</div>
      ) : (
        <LogView
          segments={log.segments}
          markers={log.markers}
          firstLineNumber={log.dropped + 1}
          matches={matches}
          current={index}
          follow={state === 'following'}
        />
      )}
    </section>
  );
}
