/** The pipeline's DAG: laid out left to right, each job coloured by its live status. */
import '@xyflow/react/dist/style.css';
import type { Edge, Node, NodeHandle } from '@xyflow/react';
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
import { groupStatus, type FanOutGroup } from '../../../../src/core/fan-out.ts';
import { statusClass } from '../../shared/status.ts';
import { Loading } from '../../shared/states.tsx';
import type { GraphEdge, GraphNode, PipelineGraph } from './build-graph.ts';
import { groupGraph } from './fan-out-graph.ts';
import { FrameNode, GroupNode, ToggleGroupContext } from './GroupNode.tsx';
import { JobStore, JobStoreContext } from './job-store.ts';
import { GraphTools } from './GraphTools.tsx';
import { JobNode } from './JobNode.tsx';
import { nodeHeight, NODE_WIDTH, type Layout } from './layout.ts';
import { useLayout } from './use-layout.ts';

const nodeTypes = { job: JobNode, fanout: GroupNode, frame: FrameNode };

/**
 * Nodes of a kind have the same size and handles, so both are given rather than measured: a node
 * that changes status keeps its edges at once, and 500 nodes need no layout pass in the browser.
 */
function geometry(height: number): {
  size: { width: number; height: number };
  handles: NodeHandle[];
} {
  return {
    size: { width: NODE_WIDTH, height },
    handles: [
      { type: 'target', position: Position.Left, x: 0, y: height / 2 - 0.5, width: 1, height: 1 },
      {
        type: 'source',
        position: Position.Right,
        x: NODE_WIDTH - 1,
        y: height / 2 - 0.5,
        width: 1,
        height: 1,
      },
    ],
  };
}
const GEOMETRY = new Map<number, ReturnType<typeof geometry>>();
const geometryOf = (node: GraphNode) => {
  const height = nodeHeight(node);
  let found = GEOMETRY.get(height);
  if (!found) GEOMETRY.set(height, (found = geometry(height)));
  return found;
};
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

/** A node of the graph: a job's, a collapsed group's. */
function flowNode(node: GraphNode, layout: Layout, selected: boolean): Node {
  const { size, handles } = geometryOf(node);
  const common = {
    id: node.id,
    position: layout.positions[node.id] ?? { x: 0, y: 0 },
    selected,
    ...size,
    measured: size,
    handles,
    ariaLabel: node.id,
  };
  return node.group
    ? { ...common, type: 'fanout', data: { group: node.group } }
    : { ...common, type: 'job', data: { name: node.id } };
}

/** The frames of expanded groups, drawn first so that their instances lie on top. */
function frameNodes(graph: PipelineGraph, layout: Layout, groups: readonly FanOutGroup[]): Node[] {
  return groups.flatMap((group) => {
    const box = layout.frames[group.name];
    if (!box) return [];
    const size = { width: box.width, height: box.height };
    return [
      {
        id: `frame:${group.name}`,
        type: 'frame',
        position: { x: box.x, y: box.y },
        data: { group },
        ...size,
        measured: size,
        selectable: false,
        focusable: false,
      },
    ];
  });
}

/** Whether a node stands for the selected job: it is that job, or a group holding it. */
const standsFor = (node: GraphNode, selected: string | undefined) =>
  selected !== undefined &&
  (node.id === selected || (node.group?.instances.includes(selected) ?? false));

/** Flow nodes: they change only with the layout and the selection, never with job states. */
function useFlowNodes(
  graph: PipelineGraph,
  layout: Layout | undefined,
  selected: string | undefined,
  groups: readonly FanOutGroup[],
): Node[] {
  const cache = useRef(new Map<string, { selected: boolean; layout: Layout; node: Node }>());
  return useMemo(() => {
    if (!layout) return [];
    const next = new Map<string, { selected: boolean; layout: Layout; node: Node }>();
    const nodes = graph.nodes.map((graphNode) => {
      const isSelected = standsFor(graphNode, selected);
      const cached = cache.current.get(graphNode.id);
      const node =
        cached && cached.selected === isSelected && cached.layout === layout
          ? cached.node
          : flowNode(graphNode, layout, isSelected);
      next.set(graphNode.id, { selected: isSelected, layout, node });
      return node;
    });
    cache.current = next;
    return [...frameNodes(graph, layout, groups), ...nodes];
  }, [graph, layout, selected, groups]);
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

/**
 * Fits the graph again when its box changes size (a panel opened) or it is laid out anew (a group
 * expanded), unless the user moved it.
 */
function FitOnResize({ userMoved, layout }: { userMoved: { current: boolean }; layout: Layout }) {
  const { fitView } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  useEffect(() => {
    if (width > 0 && height > 0 && !userMoved.current) void fitView(FIT);
  }, [width, height, layout, fitView, userMoved]);
  return null;
}

export interface DagViewProps {
  graph: PipelineGraph;
  /** The run's fan-out groups (src/core/fan-out.ts), drawn as groups (fan-out-graph.ts). */
  groups?: readonly FanOutGroup[];
  jobs?: readonly Job[];
  selected?: string;
  onSelect?: (job: string) => void;
  /** Shown on the canvas, e.g. for the screen-reader name of the region. */
  label: string;
}

const NO_GROUPS: readonly FanOutGroup[] = [];

export function DagView({
  graph: pipeline,
  groups = NO_GROUPS,
  jobs,
  selected,
  onSelect,
  label,
}: DagViewProps) {
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const toggle = useCallback(
    (group: string) =>
      setExpanded((before) => {
        const after = new Set(before);
        if (!after.delete(group)) after.add(group);
        return after;
      }),
    [],
  );
  const graph = useMemo(() => groupGraph(pipeline, groups, expanded), [pipeline, groups, expanded]);
  const layout = useLayout(graph);
  const nodes = useFlowNodes(graph, layout, selected, groups);
  const store = useJobStore(jobs);
  const big = graph.nodes.length > BIG;
  const edges = useFlowEdges(graph, !big, selected);
  const userMoved = useRef(false);
  const canvas = useRef<HTMLDivElement>(null);
  // A new function when the jobs change, so that the minimap redraws their colours.
  const minimapClass = useCallback(
    (node: Node) => {
      const group = (node.data as { group?: FanOutGroup }).group;
      const status =
        jobs &&
        (node.type === 'fanout' && group
          ? groupStatus(group.instances.map((name) => store?.get(name)?.status ?? 'PENDING'))
          : store?.get(node.id)?.status);
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
        <ToggleGroupContext.Provider value={toggle}>
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
            onNodeClick={(_event, node) => {
              if (node.type !== 'frame') onSelect?.(node.id);
            }}
            proOptions={{ hideAttribution: true }}
          >
            <FitOnResize userMoved={userMoved} layout={layout} />
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
        </ToggleGroupContext.Provider>
      </JobStoreContext.Provider>
    </div>
  );
}
