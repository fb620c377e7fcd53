/** Write or paste a pipeline, see it validated as you type and its graph, then run it. */
import { useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { navigate } from '../app/router.tsx';
import { runHref, schedulesHref } from '../app/routes.ts';
import { ScheduleDialog } from '../schedules/ScheduleDialog.tsx';
import { api } from '../shared/api.ts';
import { useCapabilities } from '../shared/capabilities-context.tsx';
import { plural } from '../shared/format.ts';
import { ErrorBanner } from '../shared/states.tsx';
import { ApiError } from '../../../src/api/client.ts';
import type { PipelineError } from '../../../src/core/types.ts';
import { inFileOrder } from '../../../src/core/issues.ts';
import { pipelineGraph } from '../run/graph/build-graph.ts';
import { DagView } from '../run/graph/DagView.tsx';
import { Editor, type EditorHandle } from './Editor.tsx';
import { EXAMPLES } from './examples.ts';
import { missingParams, ParamsForm, paramValues } from './ParamsForm.tsx';
import { checkText, positionText } from './validation.ts';

const DRAFT_KEY = 'chainr.submit.draft';

/** The first value seen for each key: a new value is taken only when the key changes. */
function useStable<T>(value: T, key: string): T {
  const kept = useRef({ key, value });
  if (kept.current.key !== key) kept.current = { key, value };
  return kept.current.value;
}

/** What the server refused, and what was sent: it applies only while the page still says that. */
interface Refusal {
  text: string;
  values: Record<string, string>;
  error: unknown;
  errors: PipelineError[];
}

function initialText(): string {
  try {
    return sessionStorage.getItem(DRAFT_KEY) ?? EXAMPLES[0]?.text ?? '';
  } catch {
    return EXAMPLES[0]?.text ?? '';
  }
}

function ErrorList({
  errors,
  onPick,
}: {
  errors: readonly PipelineError[];
  onPick: (e: PipelineError) => void;
}) {
  return (
    <ul className="error-list" aria-label="Problems">
      {errors.map((error, i) => (
        <li key={i}>
          <button
            type="button"
            className="error-item"
            onClick={() => onPick(error)}
            disabled={error.line === undefined}
          >
            {error.line !== undefined && (
              <span className="error-position">{positionText(error)}</span>
            )}
            {error.path && <span className="mono error-path">{error.path}</span>}
            <span className="error-message">{error.message}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export function SubmitPage() {
  const capabilities = useCapabilities();
  const [text, setText] = useState(initialText);
  const deferred = useDeferredValue(text);
  const checked = useMemo(() => checkText(deferred), [deferred]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [refusal, setRefusal] = useState<Refusal>();
  const [busy, setBusy] = useState(false);
  const [scheduling, setScheduling] = useState(false);
  const editor = useRef<EditorHandle>(null);
  const draftGraph = useMemo(() => pipelineGraph(checked.draft), [checked.draft]);
  const graphKey =
    draftGraph.nodes.map((n) => n.id).join(',') +
    '|' +
    draftGraph.edges.map((e) => `${e.id}:${e.kind}`).join(',');
  // The preview is laid out again only when the graph changed, not on every keystroke.
  const preview = useStable(draftGraph, graphKey);

  useEffect(() => {
    document.title = 'Submit a pipeline · chainr';
  }, []);
  useEffect(() => {
    try {
      sessionStorage.setItem(DRAFT_KEY, deferred);
    } catch {
      // private mode: the draft is not kept, nothing else changes
    }
  }, [deferred]);

  const stale = deferred !== text;
  // The server's answer is about what was sent: any edit of the text or a value sets it aside.
  const refused = refusal?.text === text && refusal.values === values ? refusal : undefined;
  const errors = inFileOrder(refused?.errors.length ? refused.errors : checked.errors);
  const params = checked.pipeline?.params ?? {};
  const missing = capabilities.submitParams ? missingParams(params, values) : [];
  const valid =
    !stale && checked.pipeline !== undefined && errors.length === 0 && missing.length === 0;

  const submit = async () => {
    if (!valid || busy || !checked.pipeline) return;
    setBusy(true);
    setRefusal(undefined);
    try {
      const run =
        capabilities.submitParams && Object.keys(params).length > 0
          ? await api.submit(checked.pipeline, paramValues(params, values))
          : await api.submitText(text, checked.format);
      navigate(runHref(run.metadata.uid));
    } catch (err) {
      const errors = err instanceof ApiError ? err.details : [];
      setRefusal({ text, values, error: err, errors });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page submit-page" aria-labelledby="submit-title">
      <header className="page-header">
        <h1 id="submit-title">Submit a pipeline</h1>
        <label className="field field-inline">
          <span>Start from</span>
          <select
            value=""
            onChange={(event) => {
              const example = EXAMPLES.find((e) => e.id === event.target.value);
              if (example) setText(example.text);
            }}
          >
            <option value="">an example…</option>
            {EXAMPLES.map((e) => (
              <option key={e.id} value={e.id}>
                {e.title}
              </option>
            ))}
          </select>
        </label>
        <label className="button">
          Open file…
          <input
            type="file"
            accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
            className="visually-hidden"
            onChange={(event) => {
              const file = event.target.files?.[0];
              if (file) void file.text().then(setText);
              event.target.value = '';
            }}
          />
        </label>
        <div className="spacer" />
        <span className="format-badge" title="Detected from the first character: { or [ means JSON">
          {checked.format.toUpperCase()}
        </span>
        {capabilities.createSchedule && (
          <button
            type="button"
            className="button"
            disabled={!valid || busy}
            onClick={() => setScheduling(true)}
          >
            Schedule…
          </button>
        )}
        <button
          type="button"
          className="button button-primary"
          disabled={!valid || busy}
          onClick={() => void submit()}
          title="Submit (Ctrl+Enter)"
        >
          {busy ? 'Submitting…' : 'Submit run'}
        </button>
      </header>
      {scheduling && checked.pipeline && (
        <ScheduleDialog
          pipeline={checked.pipeline}
          params={capabilities.submitParams ? paramValues(params, values) : undefined}
          onCreated={() => navigate(schedulesHref)}
          onCancel={() => setScheduling(false)}
        />
      )}
      {refused && <ErrorBanner error={refused.error} onDismiss={() => setRefusal(undefined)} />}
      <div className="submit-body">
        <div className="submit-editor">
          <Editor
            ref={editor}
            value={text}
            onChange={setText}
            errors={errors}
            label="Pipeline (YAML or JSON)"
            onSubmit={() => void submit()}
          />
          <div
            className={`validation ${errors.length || missing.length ? 'validation-error' : 'validation-ok'}`}
            role="status"
            aria-live="polite"
          >
            {stale
              ? 'Checking…'
              : errors.length > 0
                ? `${plural(errors.length, 'problem')}`
                : missing.length > 0
                  ? `Valid pipeline: ${plural(draftGraph.nodes.length, 'job')}; fill in ${missing.join(', ')} to submit`
                  : `Valid pipeline: ${plural(draftGraph.nodes.length, 'job')}`}
          </div>
          {errors.length > 0 && (
            <ErrorList
              errors={errors}
              onPick={(e) => e.line !== undefined && editor.current?.goTo(e.line, e.column)}
            />
          )}
          <ParamsForm
            params={params}
            values={values}
            onChange={setValues}
            disabled={!capabilities.submitParams}
          />
        </div>
        <div className="submit-preview">
          <h2 className="section-title">Preview</h2>
          {preview.nodes.length === 0 ? (
            <div className="state state-empty">
              The graph of the pipeline appears here as you type.
            </div>
          ) : (
            <DagView graph={preview} label="Preview of the pipeline graph" />
          )}
        </div>
      </div>
    </section>
  );
}
