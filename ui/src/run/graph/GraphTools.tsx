/**
 * What makes a large graph readable: a legend of the jobs by status with their counts, a search
 * that centres the graph on a job and opens it, and nodes drawn as solid status colours once they
 * are too small to read (the canvas carries `data-zoom="far"`). Rendered inside React Flow.
 */
import { Panel, useReactFlow, useStore } from '@xyflow/react';
import { useEffect, useMemo, useState, type RefObject } from 'react';
import { JOB_STATUS_ORDER, statusClass, statusLabel } from '../../shared/status.ts';
import type { Job } from '../../../../src/api/wire.ts';
import type { JobStatus } from '../../../../src/core/types.ts';
import type { PipelineGraph } from './build-graph.ts';

/** Below this zoom a node's text cannot be read: its status colour is all it shows. */
const FAR_ZOOM = 0.45;

export interface GraphToolsProps {
  graph: PipelineGraph;
  jobs?: readonly Job[];
  onSelect?: (job: string) => void;
  /** The canvas's box, which gets `data-zoom`. */
  canvas: RefObject<HTMLDivElement | null>;
  /** Set once the view was moved on purpose, so that a resize does not fit it back. */
  userMoved: { current: boolean };
}

/**
 * The job a search names, the one of that exact name, else the first whose name contains it;
 * and the node it is drawn as (a collapsed group's, for one of its instances).
 */
export function findJob(
  graph: PipelineGraph,
  query: string,
): { job: string; node: string } | undefined {
  const needle = query.trim().toLowerCase();
  if (needle === '') return undefined;
  const drawnAs = new Map<string, string>();
  for (const node of graph.nodes) {
    drawnAs.set(node.id, node.id);
    for (const instance of node.group?.instances ?? []) drawnAs.set(instance, node.id);
  }
  const names = [...drawnAs.keys()];
  const job =
    names.find((name) => name.toLowerCase() === needle) ??
    names.find((name) => name.toLowerCase().includes(needle));
  return job === undefined ? undefined : { job, node: drawnAs.get(job) ?? job };
}

export function statusCounts(jobs: readonly Job[]): [JobStatus, number][] {
  const counts = new Map<JobStatus, number>();
  for (const job of jobs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  return JOB_STATUS_ORDER.filter((s) => counts.has(s)).map((s) => [s, counts.get(s) ?? 0]);
}

export function GraphTools({ graph, jobs, onSelect, canvas, userMoved }: GraphToolsProps) {
  const { fitView } = useReactFlow();
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);
  const [query, setQuery] = useState('');
  const [missing, setMissing] = useState<string>();
  const counts = useMemo(() => (jobs ? statusCounts(jobs) : []), [jobs]);

  useEffect(() => {
    // An attribute React does not manage, so that a zoom does not re-render the graph.
    if (canvas.current) canvas.current.dataset['zoom'] = far ? 'far' : 'near';
  }, [far, canvas]);

  const find = () => {
    const found = findJob(graph, query);
    setMissing(found === undefined && query.trim() !== '' ? query.trim() : undefined);
    if (found === undefined) return;
    userMoved.current = true;
    void fitView({ nodes: [{ id: found.node }], maxZoom: 1.2, minZoom: 0.8, duration: 200 });
    onSelect?.(found.job);
  };

  return (
    <Panel position="top-left" className="graph-tools">
      {graph.nodes.length > 1 && (
        <form
          role="search"
          aria-label="Find a job"
          onSubmit={(event) => {
            event.preventDefault();
            find();
          }}
        >
          <input
            type="search"
            className="graph-search"
            placeholder="Find a job…"
            aria-label="Find a job by name"
            value={query}
            onChange={(event) => {
              setQuery(event.target.value);
              setMissing(undefined);
            }}
          />
          {missing !== undefined && (
            <span className="graph-search-missing" role="status">
              no job named like “{missing}”
            </span>
          )}
        </form>
      )}
      {counts.length > 0 && (
        <ul className="graph-legend" aria-label="Jobs by status">
          {counts.map(([status, n]) => (
            <li key={status} className={statusClass(status)}>
              <span className="graph-legend-swatch" aria-hidden="true" />
              {n.toLocaleString()} {statusLabel(status).toLowerCase()}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
