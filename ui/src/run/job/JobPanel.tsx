/**
 * A job's details (status, reason, exit code, attempts, outputs, artifacts, timing, spec) and its
 * log.
 */
import { Link } from '../../app/router.tsx';
import { runHref, type RunView } from '../../app/routes.ts';
import { elapsed, formatClock, formatDuration, formatTimestamp } from '../../shared/format.ts';
import { StatusBadge } from '../../shared/StatusBadge.tsx';
import type { Job, JobAttempt, Run } from '../../../../src/api/wire.ts';
import type { FanOutGroup } from '../../../../src/core/fan-out.ts';
import { useNow } from '../../shared/use-now.ts';
import { PanelHeader } from './PanelHeader.tsx';
import { neighbours, type PipelineGraph } from '../graph/build-graph.ts';
import { JobArtifacts } from './JobArtifacts.tsx';
import { JobLog } from './JobLog.tsx';

export interface JobPanelProps {
  run: Run;
  job: Job;
  /** The fan-out group it is an instance of, if it is one. */
  group?: FanOutGroup;
  graph: PipelineGraph;
  view: RunView;
  onClose: () => void;
}

const CONDITION_TEXT = { success: 'on success', failure: 'on failure', always: 'always' } as const;

function Attempts({ attempts, now }: { attempts: JobAttempt[]; now: number }) {
  return (
    <table className="table table-compact">
      <caption>Attempts</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Status</th>
          <th scope="col">Started</th>
          <th scope="col" className="numeric">
            Took
          </th>
          <th scope="col" className="numeric">
            Exit
          </th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a) => (
          <tr key={a.attempt}>
            <td className="numeric">{a.attempt}</td>
            <td>
              <StatusBadge status={a.status} />
            </td>
            <td>{formatTimestamp(a.startedAt)}</td>
            <td className="numeric">
              {formatDuration(elapsed(a.startedAt, a.finishedAt, now) ?? NaN)}
            </td>
            <td className="numeric">{a.exitCode ?? '—'}</td>
            <td>{a.reason ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function JobPanel({ run, job, group, graph, view, onClose }: JobPanelProps) {
  const now = useNow(job.status === 'RUNNING');
  // A forEach job's instances run its spec (with their item); the pipeline does not list them.
  const spec =
    run.pipeline?.jobs[job.name] ??
    (group?.kind === 'forEach' ? run.pipeline?.jobs[group.name] : undefined);
  const executor = job.executor ?? spec?.executor;
  const { upstream, downstream } = neighbours(graph, job.name);
  const uid = run.metadata.uid;
  const took = elapsed(job.startedAt, job.finishedAt, now);
  const phase =
    job.status === 'PENDING' ? 'pending' : job.status === 'RUNNING' ? 'running' : 'ended';
  const outputs = Object.entries(job.outputs ?? {});
  const declaredArtifacts = spec?.artifacts ?? [];
  const hasArtifacts = declaredArtifacts.length > 0 || (job.artifacts?.length ?? 0) > 0;
  const jobLink = (name: string) => runHref(uid, { job: name, view });

  return (
    <aside className="job-panel" aria-labelledby="job-panel-title" data-job={job.name}>
      <PanelHeader status={job.status} name={job.name} onClose={onClose} />
      {job.reason && (
        <p className={`job-reason ${job.status === 'FAILED' ? 'job-reason-failed' : ''}`}>
          {job.reason}
        </p>
      )}
      <dl className="stats">
        <div>
          <dt>Exit code</dt>
          <dd className="mono">{job.exitCode ?? '—'}</dd>
        </div>
        <div>
          <dt>Attempt</dt>
          <dd>{job.attempt ?? 1}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd title={formatTimestamp(job.startedAt)}>{formatClock(job.startedAt, now)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd title={formatTimestamp(job.finishedAt)}>{formatClock(job.finishedAt, now)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{took === undefined ? '—' : formatDuration(took)}</dd>
        </div>
      </dl>
      <dl className="facts">
        {group && (
          <>
            <dt>Instance of</dt>
            <dd className="job-links">
              <Link href={jobLink(group.name)} replace>
                {group.name}
              </Link>
              <span className="muted">
                {' '}
                ({group.kind}, {group.instances.length} instances)
              </span>
            </dd>
          </>
        )}
        {executor && (
          <>
            <dt>Executor</dt>
            <dd>
              <span className="mono">{executor}</span>
              {executor === 'local' && (
                <span className="muted">
                  {' '}
                  — runs on the worker&apos;s host, as the worker&apos;s user; image not used
                </span>
              )}
            </dd>
          </>
        )}
        {spec && (
          <>
            {executor !== 'local' && (
              <>
                <dt>Image</dt>
                <dd className="mono">{spec.image}</dd>
              </>
            )}
            <dt>Command</dt>
            <dd>
              <pre className="command">
                {spec.run ?? JSON.stringify([...(spec.command ?? []), ...(spec.args ?? [])])}
              </pre>
            </dd>
          </>
        )}
        {upstream.length > 0 && (
          <>
            <dt>Depends on</dt>
            <dd className="job-links">
              {upstream.map((e) => (
                <Link key={e.id} href={jobLink(e.source)} replace>
                  {e.source}
                  {e.kind !== 'success' && (
                    <span className="muted"> ({CONDITION_TEXT[e.kind]})</span>
                  )}
                </Link>
              ))}
            </dd>
          </>
        )}
        {downstream.length > 0 && (
          <>
            <dt>Needed by</dt>
            <dd className="job-links">
              {downstream.map((e) => (
                <Link key={e.id} href={jobLink(e.target)} replace>
                  {e.target}
                </Link>
              ))}
            </dd>
          </>
        )}
        {spec && !hasArtifacts && (
          <>
            <dt>Artifacts</dt>
            <dd className="muted">none declared</dd>
          </>
        )}
      </dl>
      {job.attempts && job.attempts.length > 1 && <Attempts attempts={job.attempts} now={now} />}
      {outputs.length > 0 && (
        <table className="table table-compact outputs">
          <caption>Outputs</caption>
          <tbody>
            {outputs.map(([key, value]) => (
              <tr key={key}>
                <th scope="row" className="mono">
                  {key}
                </th>
                <td className="mono">{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasArtifacts && <JobArtifacts uid={uid} job={job} declared={declaredArtifacts} />}
      <JobLog
        key={`${uid}/${job.name}`}
        uid={uid}
        job={job.name}
        phase={phase}
        attempt={job.attempt}
        attempts={job.attempts}
      />
    </aside>
  );
}
