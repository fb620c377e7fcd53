/**
 * A pipeline's jobs and dependencies as a graph to draw. Tolerant of drafts: entries that do not
 * (yet) make sense are left out rather than rejected, so the Submit page can preview as you type.
 */
import type { FanOutGroup } from '../../../../src/core/fan-out.ts';

export type EdgeKind = 'success' | 'failure' | 'always';

export interface GraphNode {
  id: string;
  /** A fan-out group drawn as one node (fan-out-graph.ts): the node's id is the group's name. */
  group?: FanOutGroup;
  /** An instance of an expanded group, drawn inside that group's frame. */
  frame?: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
}

export interface PipelineGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a dependency's conditions make of its edge. */
export function edgeKind(conditions: unknown): EdgeKind {
  if (!isObject(conditions)) return 'success';
  if (conditions['always'] === true) return 'always';
  if (conditions['failure'] === true) return 'failure';
  return 'success';
}

export function pipelineGraph(pipeline: unknown): PipelineGraph {
  const jobs = isObject(pipeline) && isObject(pipeline['jobs']) ? pipeline['jobs'] : {};
  const names = Object.keys(jobs);
  const known = new Set(names);
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  for (const target of names) {
    const spec = jobs[target];
    const dependsOn = isObject(spec) && Array.isArray(spec['dependsOn']) ? spec['dependsOn'] : [];
    for (const dependency of dependsOn as unknown[]) {
      if (!isObject(dependency)) continue;
      const source = dependency['job'];
      if (typeof source !== 'string' || !known.has(source) || source === target) continue;
      const id = `${source}->${target}`;
      if (seen.has(id)) continue;
      seen.add(id);
      edges.push({ id, source, target, kind: edgeKind(dependency['conditions']) });
    }
  }
  return { nodes: names.map((id) => ({ id })), edges };
}

/** The jobs a job depends on and the jobs that depend on it, for the job panel. */
export function neighbours(graph: PipelineGraph, id: string) {
  return {
    upstream: graph.edges.filter((e) => e.target === id),
    downstream: graph.edges.filter((e) => e.source === id),
  };
}
