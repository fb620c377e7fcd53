/** A layered left-to-right layout of a pipeline graph (dagre), as top-left node positions. */
import dagre from '@dagrejs/dagre';
import type { GraphNode, PipelineGraph } from './build-graph.ts';

export const NODE_WIDTH = 196;
export const NODE_HEIGHT = 46;
/** A group's node is taller: its counts by status may take two lines. */
export const GROUP_NODE_HEIGHT = 64;

export const nodeHeight = (node: GraphNode) => (node.group ? GROUP_NODE_HEIGHT : NODE_HEIGHT);

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Above this many jobs the layout uses a faster ranking. */
export const LARGE_GRAPH = 150;

export interface Layout {
  positions: Record<string, { x: number; y: number }>;
  /** The frame around each expanded group's instances, by group name. */
  frames: Record<string, Box>;
  width: number;
  height: number;
}

export function layoutGraph(graph: PipelineGraph): Layout {
  const large = graph.nodes.length > LARGE_GRAPH;
  const framed = [...new Set(graph.nodes.flatMap((n) => (n.frame === undefined ? [] : [n.frame])))];
  // A frame is a cluster of dagre's: its instances are kept together, and it gets their box.
  const g = new dagre.graphlib.Graph({ compound: framed.length > 0 });
  g.setGraph({
    rankdir: 'LR',
    nodesep: 14,
    ranksep: 56,
    marginx: 8,
    marginy: 8,
    // network-simplex (the default) takes seconds on hundreds of jobs; tight-tree under one.
    ...(large && { ranker: 'tight-tree' as const }),
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes)
    g.setNode(node.id, { width: NODE_WIDTH, height: nodeHeight(node) });
  // Frame ids cannot be job names, which are DNS labels.
  for (const frame of framed) g.setNode(`frame:${frame}`, {});
  for (const node of graph.nodes) if (node.frame) g.setParent(node.id, `frame:${node.frame}`);
  for (const edge of graph.edges) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  const positions: Layout['positions'] = {};
  for (const node of graph.nodes) {
    const placed = g.node(node.id) as { x: number; y: number } | undefined;
    positions[node.id] = placed
      ? { x: placed.x - NODE_WIDTH / 2, y: placed.y - nodeHeight(node) / 2 }
      : { x: 0, y: 0 };
  }
  inGraphOrder(graph, positions);
  const frames: Layout['frames'] = {};
  for (const frame of framed) {
    const box = g.node(`frame:${frame}`) as Partial<Box> | undefined;
    if (box?.x === undefined || box.y === undefined || !box.width || !box.height) continue;
    const { width, height } = box;
    frames[frame] = { x: box.x - width / 2, y: box.y - height / 2, width, height };
  }
  const size = g.graph() as { width?: number; height?: number };
  return { positions, frames, width: size.width ?? 0, height: size.height ?? 0 };
}

/**
 * Puts nodes that dagre may place in any order among themselves, those of one column with the
 * same dependencies, dependents and frame (a fan-out's instances), top to bottom in the graph's
 * order: dagre tends to stack them last first (instance 2, 1, 0). Swapping such nodes changes no
 * edge crossing.
 */
function inGraphOrder(graph: PipelineGraph, positions: Layout['positions']): void {
  const ends = (pick: (e: PipelineGraph['edges'][number]) => [string, string]) => {
    const of = new Map<string, string[]>();
    for (const edge of graph.edges) {
      const [from, to] = pick(edge);
      const list = of.get(from) ?? [];
      of.set(from, list);
      list.push(to);
    }
    return (id: string) => (of.get(id) ?? []).sort().join(',');
  };
  const sources = ends((e) => [e.target, e.source]);
  const targets = ends((e) => [e.source, e.target]);
  const classes = new Map<string, string[]>();
  for (const node of graph.nodes) {
    const at = positions[node.id];
    if (!at || node.group) continue;
    const key = `${at.x}|${node.frame ?? ''}|${sources(node.id)}|${targets(node.id)}`;
    const ids = classes.get(key) ?? [];
    classes.set(key, ids);
    ids.push(node.id);
  }
  for (const ids of classes.values()) {
    if (ids.length < 2) continue;
    const ys = ids.map((id) => positions[id]?.y ?? 0).sort((a, b) => a - b);
    ids.forEach((id, i) => {
      const at = positions[id];
      if (at) at.y = ys[i] ?? at.y;
    });
  }
}
