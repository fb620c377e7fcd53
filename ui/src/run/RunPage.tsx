/** One run: its DAG or timeline, live; a job's panel with its log; cancel, retry, resubmit. */
import { useEffect, useMemo } from 'react';
import { navigate, Link } from '../app/router.tsx';
import { runHref, runsHref, type RunView } from '../app/routes.ts';
import { isTyping } from '../shared/dom.ts';
import { elapsed, formatDuration, formatRelative, formatTimestamp } from '../shared/format.ts';
import { LiveIndicator } from '../shared/LiveIndicator.tsx';
import { isEnded } from '../shared/status.ts';
import { StatusBadge } from '../shared/StatusBadge.tsx';
import { Empty, ErrorState, Loading } from '../shared/states.tsx';
import { ApiError } from '../../../src/api/client.ts';
import type { Run } from '../../../src/api/wire.ts';
import { fanOutGroups } from '../../../src/core/fan-out.ts';
import { useNow } from '../shared/use-now.ts';
import { ProgressStrip } from '../runs/ProgressStrip.tsx';
import { Labels } from '../runs/RunsTable.tsx';
import { Gantt } from './gantt/Gantt.tsx';
import { pipelineGraph } from './graph/build-graph.ts';
import { DagView } from './graph/DagView.tsx';
import { GroupPanel } from './job/GroupPanel.tsx';
import { JobPanel } from './job/JobPanel.tsx';
import { RunActions } from './RunActions.tsx';
import { useLiveRun } from './use-live-run.ts';

export interface RunPageProps {
  uid: string;
  job?: string;
  view: RunView;
}

function RunHeader({ run, live }: { run: Run; live: ReturnType<typeof useLiveRun>['live'] }) {
  const now = useNow(!isEnded(run.status));
  const took = elapsed(run.startedAt, run.finishedAt, now);
  const created = run.createdAt ?? run.metadata.creationTimestamp;
  const params = Object.entries(run.params ?? {});
  return (
    <div className="run-header">
      <div className="run-title">
        <StatusBadge status={run.status} />
        <h1>{run.metadata.name ?? run.pipeline?.metadata?.name ?? 'Run'}</h1>
        <span className="mono muted" title="Run uid">
          {run.metadata.uid}
        </span>
        <LiveIndicator state={live} endedText={isEnded(run.status) ? 'Ended' : undefined} />
      </div>
      <div className="run-meta">
        <span title={formatTimestamp(created)}>Created {formatRelative(created, now)}</span>
        <span>Duration {took === undefined ? '—' : formatDuration(took)}</span>
        <ProgressStrip jobs={run.jobs} />
        <Labels labels={run.metadata.labels} />
        {params.length > 0 && (
          <span className="labels" aria-label="Parameters">
            {params.map(([k, v]) => (
              <span key={k} className="label-chip label-param" title={`param ${k}=${v}`}>
                {k}={v}
              </span>
            ))}
          </span>
        )}
      </div>
      {run.reason && (
        <p className={`run-reason ${run.status === 'FAILED' ? 'run-reason-failed' : ''}`}>
          {run.reason}
        </p>
      )}
    </div>
  );
}

export function RunPage({ uid, job, view }: RunPageProps) {
  const { run: resource, live, replace } = useLiveRun(uid);
  const run = resource.data;
  const graph = useMemo(() => pipelineGraph(run?.pipeline), [run?.pipeline]);
  // Grouped again only when jobs are added (a forEach job's instances), not on each transition.
  const names = run?.jobs.map((j) => j.name).join(',') ?? '';
  const groups = useMemo(
    () => fanOutGroups(run?.pipeline, names === '' ? [] : names.split(',')),
    [run?.pipeline, names],
  );
  const selectedGroup = job === undefined ? undefined : groups.find((g) => g.name === job);
  const selected = job === undefined ? undefined : run?.jobs.find((j) => j.name === job);
  const groupOfSelected =
    job === undefined ? undefined : groups.find((g) => g.instances.includes(job));
  const select = (name: string) =>
    navigate(runHref(uid, { job: name, view }), { replace: job !== undefined });
  const close = () => navigate(runHref(uid, { view }));

  useEffect(() => {
    document.title = `${run?.metadata.name ?? `Run ${uid.slice(-8)}`}${job ? ` · ${job}` : ''} · chainr`;
  }, [run?.metadata.name, uid, job]);

  useEffect(() => {
    if (job === undefined) return;
    const onKey = (event: KeyboardEvent) => {
      if (
        event.key === 'Escape' &&
        !isTyping(event.target) &&
        !document.querySelector('dialog[open]')
      )
        close();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  if (!run && resource.loading) return <Loading what="the run" />;
  if (!run) {
    const missing = resource.error instanceof ApiError && resource.error.status === 404;
    return missing ? (
      <Empty title="No such run">
        <span className="mono">{uid}</span>
        <Link href={runsHref()} className="button">
          All runs
        </Link>
      </Empty>
    ) : (
      <ErrorState
        title="The run could not be loaded"
        error={resource.error}
        onRetry={resource.reload}
      />
    );
  }

  return (
    <section className={`page run-page ${job !== undefined ? 'with-panel' : ''}`} aria-label="Run">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link href={runsHref()}>Runs</Link>
        <span aria-hidden="true">/</span>
        <span className="mono">{uid.slice(-8)}</span>
      </nav>
      <div className="run-top">
        <RunHeader run={run} live={live} />
        <RunActions
          run={run}
          onDone={(result) => {
            // The same run: its answer is the newest state, and the event stream reopens from
            // there (a reload here could land after the stream's events and undo them).
            if (result.metadata.uid !== uid) navigate(runHref(result.metadata.uid));
            else replace(result);
          }}
        />
      </div>
      <div
        className="tabs"
        role="tablist"
        aria-label="Views"
        onKeyDown={(event) => {
          // One Tab stop for the tabs (the selected one); the arrows move between them.
          if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
          event.preventDefault();
          const other = view === 'graph' ? 'timeline' : 'graph';
          navigate(runHref(uid, { job, view: other }), { replace: true });
          window.requestAnimationFrame(() =>
            document.querySelector<HTMLElement>(`[role="tab"][data-view="${other}"]`)?.focus(),
          );
        }}
      >
        {(['graph', 'timeline'] as const).map((v) => (
          <Link
            key={v}
            role="tab"
            data-view={v}
            aria-selected={view === v}
            tabIndex={view === v ? 0 : -1}
            className={`tab ${view === v ? 'active' : ''}`}
            href={runHref(uid, { job, view: v })}
            replace
          >
            {v === 'graph' ? 'Graph' : 'Timeline'}
          </Link>
        ))}
        <span className="legend" aria-label="Edge legend">
          <span className="legend-item legend-success">on success</span>
          <span className="legend-item legend-failure">on failure</span>
          <span className="legend-item legend-always">always</span>
        </span>
      </div>
      <div className="run-body">
        <div className="run-view" role="tabpanel">
          {view === 'graph' ? (
            <DagView
              graph={graph}
              groups={groups}
              jobs={run.jobs}
              selected={job}
              onSelect={select}
              label="Pipeline graph"
            />
          ) : (
            <Gantt jobs={run.jobs} selected={job} onSelect={select} />
          )}
        </div>
        {job !== undefined &&
          (selectedGroup ? (
            <GroupPanel run={run} group={selectedGroup} view={view} onClose={close} />
          ) : selected ? (
            <JobPanel
              run={run}
              job={selected}
              group={groupOfSelected}
              graph={graph}
              view={view}
              onClose={close}
            />
          ) : (
            <aside className="job-panel">
              <Empty title={`This run has no job named "${job}"`}>
                <button type="button" className="button" onClick={close}>
                  Close
                </button>
              </Empty>
            </aside>
          ))}
      </div>
    </section>
  );
}
