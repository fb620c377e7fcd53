/** Lays out large graphs off the main thread, so the page stays responsive meanwhile. */
import type { PipelineGraph } from './build-graph.ts';
import { layoutGraph } from './layout.ts';

self.onmessage = (event: MessageEvent<{ id: number; graph: PipelineGraph }>) => {
  const { id, graph } = event.data;
  self.postMessage({ id, layout: layoutGraph(graph) });
};
