/** A layered left-to-right layout of a pipeline graph (dagre), as top-left node positions. */
import dagre from '@dagrejs/dagre';
import type { PipelineGraph } from './build-graph.ts';

export const NODE_WIDTH = 196;
export const NODE_HEIGHT = 46;

/** Above this many jobs the layout uses a faster ranking. */
export const LARGE_GRAPH = 150;

export interface Layout {
  positions: Record<string, { x: number; y: number }>;
  width: number;
  height: number;
}

export function layoutGraph(graph: PipelineGraph): Layout {
  const large = graph.nodes.length > LARGE_GRAPH;
  const g = new dagre.graphlib.Graph();
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
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of graph.edges) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  const positions: Layout['positions'] = {};
  for (const node of graph.nodes) {
    const placed = g.node(node.id) as { x: number; y: number } | undefined;
    positions[node.id] = placed
      ? { x: placed.x - NODE_WIDTH / 2, y: placed.y - NODE_HEIGHT / 2 }
      : { x: 0, y: 0 };
  }
  const size = g.graph() as { width?: number; height?: number };
  return { positions, width: size.width ?? 0, height: size.height ?? 0 };
}
