/** The layout of a graph: computed in place for small graphs, in a Web Worker for large ones. */
import { useEffect, useMemo, useState } from 'react';
import type { PipelineGraph } from './build-graph.ts';
import { layoutGraph, type Layout } from './layout.ts';

/** Below this many jobs, laying out in place takes a few milliseconds. */
const WORKER_THRESHOLD = 80;

let nextRequest = 0;

function layoutInWorker(graph: PipelineGraph): { result: Promise<Layout>; cancel: () => void } {
  const worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
  const id = ++nextRequest;
  const result = new Promise<Layout>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ id: number; layout: Layout }>) => {
      if (event.data.id === id) resolve(event.data.layout);
      worker.terminate();
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || 'the layout worker failed'));
    };
  });
  worker.postMessage({ id, graph });
  return { result, cancel: () => worker.terminate() };
}

export function useLayout(graph: PipelineGraph): Layout | undefined {
  const small = graph.nodes.length < WORKER_THRESHOLD || typeof Worker === 'undefined';
  const inPlace = useMemo(() => (small ? layoutGraph(graph) : undefined), [graph, small]);
  const [fromWorker, setFromWorker] = useState<{ graph: PipelineGraph; layout: Layout }>();
  useEffect(() => {
    if (small) return;
    const job = layoutInWorker(graph);
    job.result.then(
      (layout) => setFromWorker({ graph, layout }),
      // A worker that cannot start (e.g. a strict CSP) still leaves a usable page.
      () => setFromWorker({ graph, layout: layoutGraph(graph) }),
    );
    return job.cancel;
  }, [graph, small]);
  if (inPlace) return inPlace;
  return fromWorker?.graph === graph ? fromWorker.layout : undefined;
}
