/** Cancel, retry and resubmit a run, each confirmed first, with the server's answer on failure. */
import { useState } from 'react';
import { api } from '../shared/api.ts';
import { useCapabilities } from '../shared/capabilities-context.tsx';
import { ConfirmDialog } from '../shared/ConfirmDialog.tsx';
import { isEnded } from '../shared/status.ts';
import { ErrorBanner } from '../shared/states.tsx';
import type { Run } from '../../../src/api/wire.ts';

type Action = 'cancel' | 'retry' | 'resubmit';

const QUESTIONS: Record<Action, { title: string; body: string; confirm: string; danger: boolean }> =
  {
    cancel: {
      title: 'Cancel this run?',
      body: 'Its running jobs are stopped and the jobs that have not started are marked canceled. This cannot be undone.',
      confirm: 'Cancel run',
      danger: true,
    },
    retry: {
      title: 'Retry this run?',
      body: 'The jobs that failed, were skipped or were canceled run again, and every job after them is decided again: a fallback that ran because of a failure is skipped if the job now succeeds. The jobs before them keep their results.',
      confirm: 'Retry',
      danger: false,
    },
    resubmit: {
      title: 'Resubmit this pipeline?',
      body: 'A new run of the same pipeline (and parameters) starts from the beginning.',
      confirm: 'Resubmit',
      danger: false,
    },
  };

const CALLS: Record<Action, (uid: string) => Promise<Run>> = {
  cancel: (uid) => api.cancelRun(uid),
  retry: (uid) => api.retryRun(uid),
  resubmit: (uid) => api.resubmitRun(uid),
};

export interface RunActionsProps {
  run: Run;
  /** Called with the server's answer: the same run (cancel, retry) or a new one (resubmit). */
  onDone: (result: Run) => void;
}

export function RunActions({ run, onDone }: RunActionsProps) {
  const capabilities = useCapabilities();
  const [asking, setAsking] = useState<Action>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const ended = isEnded(run.status);
  const canRetry = capabilities.retry && ended && run.status !== 'SUCCESSFUL';
  const canResubmit = capabilities.resubmit && ended;

  const confirm = async (action: Action) => {
    setBusy(true);
    setError(undefined);
    try {
      onDone(await CALLS[action](run.metadata.uid));
      setAsking(undefined);
    } catch (err) {
      setError(err);
      setAsking(undefined);
    } finally {
      setBusy(false);
    }
  };

  const question = asking && QUESTIONS[asking];
  return (
    <div className="run-actions">
      {!ended && (
        <button
          type="button"
          className="button button-danger-outline"
          onClick={() => setAsking('cancel')}
        >
          Cancel run
        </button>
      )}
      {canRetry && (
        <button type="button" className="button" onClick={() => setAsking('retry')}>
          Retry
        </button>
      )}
      {canResubmit && (
        <button type="button" className="button" onClick={() => setAsking('resubmit')}>
          Resubmit
        </button>
      )}
      {asking && question && (
        <ConfirmDialog
          title={question.title}
          confirmLabel={question.confirm}
          danger={question.danger}
          busy={busy}
          onConfirm={() => void confirm(asking)}
          onCancel={() => setAsking(undefined)}
        >
          {question.body}
        </ConfirmDialog>
      )}
      {error !== undefined && <ErrorBanner error={error} onDismiss={() => setError(undefined)} />}
    </div>
  );
}
