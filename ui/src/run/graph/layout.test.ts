// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { PipelineGraph } from './build-graph.ts';
import { fanOutGroups } from '../../../../src/core/fan-out.ts';
import { pipelineGraph } from './build-graph.ts';
import { groupGraph } from './fan-out-graph.ts';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from './layout.ts';

function overlap(a: { x: number; y: number }, b: { x: number; y: number }): boolean {
  return Math.abs(a.x - b.x) < NODE_WIDTH && Math.abs(a.y - b.y) < NODE_HEIGHT;
}

/** A pipeline of `n` jobs, each depending on one or two earlier ones (deterministic). */
export function bigGraph(n: number): PipelineGraph {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const nodes = Array.from({ length: n }, (_, i) => ({ id: `job-${i}` }));
  const edges = [];
  for (let i = 1; i < n; i++) {
    const parents = new Set([Math.floor(random() * i), Math.floor(random() * i)]);
    for (const p of parents)
      edges.push({
        id: `job-${p}->job-${i}`,
        source: `job-${p}`,
        target: `job-${i}`,
        kind: 'success' as const,
      });
  }
  return { nodes, edges };
}

describe('layoutGraph', () => {
  it('lays dependencies out left to right, without overlaps', () => {
    const graph: PipelineGraph = {
      nodes: [{ id: 'first' }, { id: 'second' }, { id: 'success' }, { id: 'error' }],
      edges: [
        { id: '1', source: 'first', target: 'success', kind: 'success' },
        { id: '2', source: 'first', target: 'error', kind: 'failure' },
      ],
    };
    const { positions, width, height } = layoutGraph(graph);
    const at = (id: string) => positions[id] ?? { x: NaN, y: NaN };
    expect(at('success').x).toBeGreaterThan(at('first').x + NODE_WIDTH);
    expect(at('error').x).toBeGreaterThan(at('first').x + NODE_WIDTH);
    expect(at('first').x).toBe(at('second').x);
    const ids = Object.keys(positions);
    for (const a of ids) for (const b of ids) if (a < b) expect(overlap(at(a), at(b))).toBe(false);
    expect(width).toBeGreaterThan(2 * NODE_WIDTH);
    expect(height).toBeGreaterThan(NODE_HEIGHT);
  });

  it.each([3, 6])(
    "stacks a forEach job's %i instances top to bottom in their order (one by one, or expanded in a frame)",
    (count) => {
      const pipeline = {
        kind: 'Pipeline' as const,
        jobs: {
          list: { image: 'busybox', run: 'true' },
          part: {
            image: 'busybox',
            run: 'true',
            dependsOn: [{ job: 'list' }],
            forEach: '${{ jobs.list.outputs.files }}',
          },
          join: { image: 'busybox', run: 'true', dependsOn: [{ job: 'part' }] },
        },
      };
      const instances = Array.from({ length: count }, (_, i) => `part-${i}`);
      const groups = fanOutGroups(pipeline, ['list', 'part', ...instances, 'join']);
      const graph = groupGraph(pipelineGraph(pipeline), groups, new Set(['part']));
      const { positions } = layoutGraph(graph);
      const topDown = instances
        .map((id) => ({ id, y: positions[id]?.y ?? NaN }))
        .sort((a, b) => a.y - b.y)
        .map((p) => p.id);
      expect(topDown).toEqual(instances);
    },
  );

  it('places a graph with a cycle (a draft) instead of failing', () => {
    const graph: PipelineGraph = {
      nodes: [{ id: 'a' }, { id: 'b' }],
      edges: [
        { id: '1', source: 'a', target: 'b', kind: 'success' },
        { id: '2', source: 'b', target: 'a', kind: 'success' },
      ],
    };
    expect(Object.keys(layoutGraph(graph).positions)).toEqual(['a', 'b']);
  });

  it('lays out 500 jobs, each after what it depends on', { timeout: 60_000 }, () => {
    const graph = bigGraph(500);
    const started = performance.now();
    const { positions } = layoutGraph(graph);
    const took = performance.now() - started;
    expect(Object.keys(positions)).toHaveLength(500);
    for (const e of graph.edges)
      expect(positions[e.target]!.x).toBeGreaterThan(positions[e.source]!.x);
    // Off the main thread in the app (a worker); here only a guard against a pathological case
    // (dagre's default ranking takes several times longer on this graph).
    expect(took).toBeLessThan(30_000);
  });
});
