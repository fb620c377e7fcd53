/** A run loaded once with its pipeline, then kept current by its event stream until it ends. */
import { useCallback, useRef } from 'react';
import { runEventsPath } from '../../../src/api/client.ts';
import { api } from '../shared/api.ts';
import { applyRunEvent, mergeRun } from '../shared/run-events.ts';
import { isEnded } from '../shared/status.ts';
import type { Run, TransitionEvent } from '../../../src/api/wire.ts';
import { useBatched, useThrottled } from '../shared/use-batched.ts';
import { useEventStream, type StreamState } from '../shared/use-event-stream.ts';
import { useResource, type Resource } from '../shared/use-resource.ts';

const isSnapshot = (data: unknown): data is Run => (data as Run | undefined)?.kind === 'Run';

export function useLiveRun(uid: string): {
  run: Resource<Run>;
  live: StreamState;
  replace: (run: Run) => void;
} {
  const run = useResource((signal) => api.getRun(uid, { signal }), [uid]);
  // Large runs are redrawn and re-read less often: each costs in proportion to their jobs.
  const large = (run.data?.jobs.length ?? 0) > 100;
  const current = useRef(run.data);
  current.current = run.data;

  const update = useCallback(
    (change: (r: Run) => Run) => {
      const before = current.current;
      if (!before) return;
      const after = change(before);
      current.current = after;
      run.set(() => after);
    },
    [run],
  );
  // What events do not carry (exit codes, attempts, outputs) comes with a re-read, at most once
  // a second. The pipeline object is kept, so the graph is not laid out again.
  // Answers can arrive out of order: one older than the last applied is dropped.
  const asked = useRef(0);
  const applied = useRef(0);
  const refresh = useThrottled(
    () => {
      const ticket = ++asked.current;
      api.getRun(uid).then(
        (fresh) => {
          if (ticket < applied.current || fresh.metadata.uid !== current.current?.metadata.uid)
            return;
          applied.current = ticket;
          update((r) => mergeRun(r, fresh));
        },
        () => undefined, // the stream goes on; the next refresh will tell
      );
    },
    large ? 3000 : 1000,
  );

  const apply = useBatched<TransitionEvent>(
    (events) => {
      update((r) => events.reduce(applyRunEvent, r));
      if (events.some((e) => e.job !== undefined && isEnded(e.status))) refresh();
    },
    large ? 300 : 100,
  );

  const ended = run.data === undefined || isEnded(run.data.status);
  const live = useEventStream(
    run.data && !ended ? runEventsPath(uid) : undefined,
    ['run', 'job', 'end'],
    (type, data, control) => {
      if (type === 'end') {
        control.close();
        refresh();
      } else if (isSnapshot(data)) {
        update((r) => mergeRun(r, data));
        if (isEnded(data.status)) control.close();
      } else apply(data as TransitionEvent);
    },
  );

  const replace = useCallback((next: Run) => update((r) => mergeRun(r, next)), [update]);
  return { run, live, replace };
}
