/** The pipeline's DAG: laid out left to right, each job coloured by its live status. */
import '@xyflow/react/dist/style.css';
import type { Edge, NodeHandle } from '@xyflow/react';
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  Position,
  ReactFlow,
  useReactFlow,
  useStore,
} from '@xyflow/react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Job } from '../../../../src/api/wire.ts';
import { statusClass } from '../../shared/status.ts';
import { Loading } from '../../shared/states.tsx';
import type { GraphEdge, PipelineGraph } from './build-graph.ts';
import { JobStore, JobStoreContext } from './job-store.ts';
import { GraphTools } from './GraphTools.tsx';
import { JobNode, type JobFlowNode } from './JobNode.tsx';
import { NODE_HEIGHT, NODE_WIDTH, type Layout } from './layout.ts';
import { useLayout } from './use-layout.ts';

const nodeTypes = { job: JobNode };

/**
 * Every job node has the same size and handles, so both are given rather than measured: a node
 * that changes status keeps its edges at once, and 500 nodes need no layout pass in the browser.
 */
const SIZE = { width: NODE_WIDTH, height: NODE_HEIGHT };
const HANDLES: NodeHandle[] = [
  { type: 'target', position: Position.Left, x: 0, y: NODE_HEIGHT / 2 - 0.5, width: 1, height: 1 },
  {
    type: 'source',
    position: Position.Right,
    x: NODE_WIDTH - 1,
    y: NODE_HEIGHT / 2 - 0.5,
    width: 1,
    height: 1,
  },
];
/** Above this many jobs, only what is in view is rendered, and edge labels are left out. */
const BIG = 100;

const EDGE_LABELS = { success: undefined, failure: 'on failure', always: 'always' } as const;

function flowEdge(edge: GraphEdge, labelled: boolean, active: boolean): Edge {
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    className: `edge-${edge.kind}${active ? ' edge-active' : ''}`,
    markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
    ...(labelled &&
      EDGE_LABELS[edge.kind] && {
        label: EDGE_LABELS[edge.kind],
        labelBgPadding: [4, 2] as [number, number],
      }),
    focusable: false,
  };
}

/** Flow nodes: they change only with the layout and the selection, never with job states. */
function useFlowNodes(
  graph: PipelineGraph,
  layout: Layout | undefined,
  selected: string | undefined,
): JobFlowNode[] {
  const cache = useRef(new Map<string, { selected: boolean; layout: Layout; node: JobFlowNode }>());
  return useMemo(() => {
    if (!layout) return [];
    const next = new Map<string, { selected: boolean; layout: Layout; node: JobFlowNode }>();
    const nodes = graph.nodes.map(({ id }) => {
      const isSelected = id === selected;
      const cached = cache.current.get(id);
      const node =
        cached && cached.selected === isSelected && cached.layout === layout
          ? cached.node
          : {
              id,
              type: 'job' as const,
              position: layout.positions[id] ?? { x: 0, y: 0 },
              data: { name: id },
              selected: isSelected,
              ...SIZE,
              measured: SIZE,
              handles: HANDLES,
              ariaLabel: id,
            };
      next.set(id, { selected: isSelected, layout, node });
      return node;
    });
    cache.current = next;
    return nodes;
  }, [graph, layout, selected]);
}

/** The jobs' live state for the nodes; a change re-renders only the nodes of changed jobs. */
function useJobStore(jobs: readonly Job[] | undefined): JobStore | undefined {
  const [store] = useState(() => (jobs ? new JobStore(jobs) : undefined));
  useLayoutEffect(() => {
    if (jobs) store?.update(jobs);
  }, [store, jobs]);
  return store;
}

/** Flow edges that keep their identity unless their highlight changes (see useFlowNodes). */
function useFlowEdges(
  graph: PipelineGraph,
  labelled: boolean,
  selected: string | undefined,
): Edge[] {
  const cache = useRef(
    new Map<string, { edge: GraphEdge; active: boolean; labelled: boolean; flow: Edge }>(),
  );
  return useMemo(() => {
    const next = new Map<
      string,
      { edge: GraphEdge; active: boolean; labelled: boolean; flow: Edge }
    >();
    const edges = graph.edges.map((edge) => {
      const active =
        selected !== undefined && (edge.source === selected || edge.target === selected);
      const cached = cache.current.get(edge.id);
      const flow =
        cached && cached.edge === edge && cached.active === active && cached.labelled === labelled
          ? cached.flow
          : flowEdge(edge, labelled, active);
      next.set(edge.id, { edge, active, labelled, flow });
      return flow;
    });
    cache.current = next;
    return edges;
  }, [graph, labelled, selected]);
}

const FIT = { padding: 0.12, maxZoom: 1.2, minZoom: 0.05 };

/** Fits the graph again when its box changes size (a panel opened), unless the user moved it. */
function FitOnResize({ userMoved }: { userMoved: { current: boolean } }) {
  const { fitView } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  useEffect(() => {
    if (width > 0 && height > 0 && !userMoved.current) void fitView(FIT);
  }, [width, height, fitView, userMoved]);
  return null;
}

export interface DagViewProps {
  graph: PipelineGraph;
  jobs?: readonly Job[];
  selected?: string;
  onSelect?: (job: string) => void;
  /** Shown on the canvas, e.g. for the screen-reader name of the region. */
  label: string;
}

export function DagView({ graph, jobs, selected, onSelect, label }: DagViewProps) {
  const layout = useLayout(graph);
  const nodes = useFlowNodes(graph, layout, selected);
  const store = useJobStore(jobs);
  const big = graph.nodes.length > BIG;
  const edges = useFlowEdges(graph, !big, selected);
  const userMoved = useRef(false);
  const canvas = useRef<HTMLDivElement>(null);
  // A new function when the jobs change, so that the minimap redraws their colours.
  const minimapClass = useCallback(
    (node: { id: string }) => {
      const status = jobs && store?.get(node.id)?.status;
      return `minimap-node ${status ? statusClass(status) : ''}`;
    },
    [jobs, store],
  );
  if (!layout)
    return (
      <div className="dag dag-loading">
        <Loading what={`the layout of ${graph.nodes.length} jobs`} />
      </div>
    );
  return (
    <div
      ref={canvas}
      className={`dag ${big ? 'dag-big' : ''}`}
      role="region"
      aria-label={label}
      data-jobs={graph.nodes.length}
      onKeyDown={(event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        const id = (event.target as HTMLElement).closest<HTMLElement>('.react-flow__node')?.dataset[
          'id'
        ];
        if (id && onSelect) {
          event.preventDefault();
          onSelect(id);
        }
      }}
    >
      <JobStoreContext.Provider value={store}>
        <ReactFlow
          key={graph.nodes.length === 0 ? 'empty' : 'graph'}
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          colorMode="system"
          fitView
          fitViewOptions={FIT}
          onMoveStart={(event) => {
            if (event) userMoved.current = true;
          }}
          minZoom={0.05}
          maxZoom={2}
          nodesDraggable={false}
          nodesConnectable={false}
          edgesFocusable={false}
          elementsSelectable={onSelect !== undefined}
          onlyRenderVisibleElements={big}
          onNodeClick={(_event, node) => onSelect?.(node.id)}
          proOptions={{ hideAttribution: true }}
        >
          <FitOnResize userMoved={userMoved} />
          <GraphTools
            graph={graph}
            jobs={jobs}
            onSelect={onSelect}
            canvas={canvas}
            userMoved={userMoved}
          />
          <Background gap={24} size={1} />
          <Controls showInteractive={false} />
          {big && <MiniMap pannable zoomable nodeClassName={minimapClass} />}
        </ReactFlow>
      </JobStoreContext.Provider>
    </div>
  );
}
