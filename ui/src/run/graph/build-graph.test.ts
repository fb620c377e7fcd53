// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { edgeKind, neighbours, pipelineGraph } from './build-graph.ts';

const seed = {
  kind: 'Pipeline',
  jobs: {
    first: { image: 'busybox', run: 'exit 0' },
    second: { image: 'busybox', run: 'exit 0' },
    success: { image: 'busybox', run: 'exit 0', dependsOn: [{ job: 'first' }] },
    error: {
      image: 'busybox',
      run: 'exit 0',
      dependsOn: [{ job: 'first', conditions: { failure: true } }],
    },
    cleanup: {
      image: 'busybox',
      run: 'true',
      dependsOn: [{ job: 'success', conditions: { always: true } }],
    },
  },
};

describe('pipelineGraph', () => {
  it('has a node per job and an edge per dependency, marked by its conditions', () => {
    const graph = pipelineGraph(seed);
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'first',
      'second',
      'success',
      'error',
      'cleanup',
    ]);
    expect(graph.edges).toEqual([
      { id: 'first->success', source: 'first', target: 'success', kind: 'success' },
      { id: 'first->error', source: 'first', target: 'error', kind: 'failure' },
      { id: 'success->cleanup', source: 'success', target: 'cleanup', kind: 'always' },
    ]);
  });

  it('draws what it can of a draft: no unknown, self or repeated dependencies, no crash on junk', () => {
    const graph = pipelineGraph({
      jobs: {
        a: { dependsOn: [{ job: 'a' }, { job: 'missing' }, 'junk', { job: 7 }] },
        b: { dependsOn: [{ job: 'a' }, { job: 'a', conditions: { failure: true } }] },
        c: null,
      },
    });
    expect(graph.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    expect(graph.edges.map((e) => e.id)).toEqual(['a->b']);
    for (const junk of [undefined, null, 42, 'text', [], { jobs: [] }, { jobs: 'x' }])
      expect(pipelineGraph(junk)).toEqual({ nodes: [], edges: [] });
  });

  it('reads conditions: always wins over failure; anything else is success', () => {
    expect(edgeKind({ always: true, failure: true })).toBe('always');
    expect(edgeKind({ failure: true })).toBe('failure');
    expect(edgeKind({ failure: false })).toBe('success');
    expect(edgeKind('x')).toBe('success');
  });

  it('finds the jobs upstream and downstream of a job', () => {
    const { upstream, downstream } = neighbours(pipelineGraph(seed), 'success');
    expect(upstream.map((e) => e.source)).toEqual(['first']);
    expect(downstream.map((e) => e.target)).toEqual(['cleanup']);
  });
});
