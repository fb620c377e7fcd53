// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { fanOutGroups } from '../../../../src/core/fan-out.ts';
import { expandMatrices } from '../../../../src/core/matrix.ts';
import type { Pipeline } from '../../../../src/core/types.ts';
import { pipelineGraph } from './build-graph.ts';
import { groupGraph } from './fan-out-graph.ts';
import { layoutGraph, NODE_WIDTH } from './layout.ts';

/** list → shard (a matrix of n, two at once) → report; list → convert (forEach) → merge. */
function run(shards: number, items: number) {
  const submitted: Pipeline = {
    kind: 'Pipeline',
    jobs: {
      list: { image: 'busybox', run: 'true' },
      shard: {
        image: 'busybox',
        run: 'true',
        matrix: { n: Array.from({ length: shards }, (_, i) => String(i + 1)) },
        maxParallel: 2,
        dependsOn: [{ job: 'list' }],
      },
      report: {
        image: 'busybox',
        run: 'true',
        dependsOn: [{ job: 'shard', conditions: { always: true } }],
      },
      convert: {
        image: 'busybox',
        run: 'true',
        forEach: '${{ jobs.list.outputs.files }}',
        dependsOn: [{ job: 'list' }],
      },
      merge: { image: 'busybox', run: 'true', dependsOn: [{ job: 'convert' }] },
    },
  };
  const pipeline = expandMatrices(submitted);
  const names = Object.keys(pipeline.jobs).flatMap((name) =>
    name === 'convert'
      ? [name, ...Array.from({ length: items }, (_, i) => `convert-${i}`)]
      : [name],
  );
  return { graph: pipelineGraph(pipeline), groups: fanOutGroups(pipeline, names) };
}

const ids = (g: { nodes: { id: string }[] }) => g.nodes.map((n) => n.id);
const edgeIds = (g: { edges: { id: string }[] }) => g.edges.map((e) => e.id);

describe('groupGraph', () => {
  it('draws a group of more than four instances as one node, its edges to the group', () => {
    const { graph, groups } = run(20, 6);
    const grouped = groupGraph(graph, groups, new Set());
    expect(ids(grouped)).toEqual(['list', 'shard', 'report', 'convert', 'merge']);
    expect(grouped.nodes[1]?.group?.instances).toHaveLength(20);
    expect(grouped.nodes[3]?.group?.instances).toHaveLength(6);
    expect(grouped.edges).toEqual([
      { id: 'list->shard', source: 'list', target: 'shard', kind: 'success' },
      { id: 'shard->report', source: 'shard', target: 'report', kind: 'always' },
      { id: 'list->convert', source: 'list', target: 'convert', kind: 'success' },
      { id: 'convert->merge', source: 'convert', target: 'merge', kind: 'success' },
    ]);
  });

  it("expands a group into its instances, framed, without the matrix's own order", () => {
    const { graph, groups } = run(20, 6);
    const grouped = groupGraph(graph, groups, new Set(['shard', 'convert']));
    expect(ids(grouped)).toHaveLength(3 + 20 + 6);
    expect(grouped.nodes.filter((n) => n.frame === 'shard')).toHaveLength(20);
    expect(grouped.nodes.filter((n) => n.frame === 'convert')).toHaveLength(6);
    expect(ids(grouped)).not.toContain('convert');
    expect(edgeIds(grouped)).toContain('list->shard-7');
    expect(edgeIds(grouped)).toContain('shard-7->report');
    expect(edgeIds(grouped)).toContain('list->convert-5');
    expect(edgeIds(grouped)).toContain('convert-5->merge');
    // 20 in, 20 out, 6 in, 6 out: no edge between two shards (maxParallel's order)
    expect(grouped.edges).toHaveLength(52);
  });

  it('draws small groups instance by instance, unframed', () => {
    const { graph, groups } = run(4, 2);
    const grouped = groupGraph(graph, groups, new Set());
    expect(ids(grouped)).toEqual([
      'list',
      'shard-1',
      'shard-2',
      'shard-3',
      'shard-4',
      'report',
      'convert-0',
      'convert-1',
      'merge',
    ]);
    expect(grouped.nodes.every((n) => n.frame === undefined && n.group === undefined)).toBe(true);
  });

  it('lays an expanded group out in a frame that holds its instances and nothing else', () => {
    const { graph, groups } = run(20, 6);
    const layout = layoutGraph(groupGraph(graph, groups, new Set(['shard'])));
    const frame = layout.frames['shard'];
    expect(frame).toBeDefined();
    if (!frame) return;
    const inside = (id: string) => {
      const p = layout.positions[id] ?? { x: NaN, y: NaN };
      return (
        p.x >= frame.x &&
        p.x + NODE_WIDTH <= frame.x + frame.width &&
        p.y >= frame.y &&
        p.y <= frame.y + frame.height
      );
    };
    for (let n = 1; n <= 20; n++) expect(inside(`shard-${n}`), `shard-${n}`).toBe(true);
    for (const id of ['list', 'report', 'convert', 'merge']) expect(inside(id), id).toBe(false);
  });
});
