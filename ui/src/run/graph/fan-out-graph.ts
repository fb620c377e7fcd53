/**
 * A run's graph with its fan-out groups (src/core/fan-out.ts) drawn as groups: a group of more
 * than GROUP_ABOVE instances is one node, unless the user expanded it; then, as a small group, its
 * instances are drawn one by one, an expanded group's inside a frame. A forEach job's instances
 * take its place once it has them. Edges into and out of a group's members connect to its node;
 * the order `maxParallel` sets between a matrix's instances is not drawn (they are side by side).
 */
import { isCollapsible, type FanOutGroup } from '../../../../src/core/fan-out.ts';
import type { GraphEdge, GraphNode, PipelineGraph } from './build-graph.ts';

export function groupGraph(
  graph: PipelineGraph,
  groups: readonly FanOutGroup[],
  expanded: ReadonlySet<string>,
): PipelineGraph {
  if (groups.length === 0) return graph;
  /** Where each job of the input graph is drawn: one node (a group's or its own), or several. */
  const drawnAs = new Map<string, string[]>();
  const nodes: GraphNode[] = [];
  const placed = new Set<string>();
  /** The nodes that take the place of a job of the input graph, in its place. */
  const replacement = new Map<string, GraphNode[]>();
  for (const group of groups) {
    const collapsed = isCollapsible(group) && !expanded.has(group.name);
    const members = group.kind === 'matrix' ? group.instances : [group.name];
    const drawn: GraphNode[] = collapsed
      ? [{ id: group.name, group }]
      : group.instances.map((id) => ({
          id,
          ...(isCollapsible(group) && { frame: group.name }),
        }));
    const ids = drawn.map((n) => n.id);
    for (const member of members) drawnAs.set(member, ids);
    // The group is drawn where its first member was.
    replacement.set(members[0] as string, drawn);
    for (const member of members.slice(1)) replacement.set(member, []);
  }
  for (const node of graph.nodes) {
    for (const drawn of replacement.get(node.id) ?? [node]) {
      if (placed.has(drawn.id)) continue;
      placed.add(drawn.id);
      nodes.push(drawn);
    }
  }
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  for (const edge of graph.edges) {
    for (const source of drawnAs.get(edge.source) ?? [edge.source]) {
      for (const target of drawnAs.get(edge.target) ?? [edge.target]) {
        const id = `${source}->${target}`;
        // A group's own order (a matrix's maxParallel) stays inside it.
        if (source === target || seen.has(id) || sameGroup(drawnAs, edge)) continue;
        seen.add(id);
        edges.push({ id, source, target, kind: edge.kind });
      }
    }
  }
  return { nodes, edges };
}

/** Whether an edge joins two members of one group. */
function sameGroup(drawnAs: Map<string, string[]>, edge: GraphEdge): boolean {
  const a = drawnAs.get(edge.source);
  return a !== undefined && a === drawnAs.get(edge.target);
}
