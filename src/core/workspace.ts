/**
 * A run's workspace on Kubernetes: the volume settings its jobs carry, and the check made at
 * submission for volumes one node mounts at a time (ReadWriteOnce, ReadWriteOncePod): the
 * Kubernetes jobs that use the workspace must then run one after the other, each an ancestor of
 * the next, or their pods could need the volume on two nodes at once and one would wait for the
 * other's end (Multi-Attach). Pure.
 */
import { dependencyMap } from './graph.ts';
import type { Pipeline, WorkspaceAccessMode, WorkspaceVolume } from './types.ts';

/** The workspace's volume settings written in the pipeline, when it has any. */
export function workspaceVolumeOf(pipeline: Pipeline): WorkspaceVolume | undefined {
  const { claimName, size, storageClassName, accessModes } = pipeline.workspace ?? {};
  const volume = {
    ...(claimName !== undefined && { claimName }),
    ...(size !== undefined && { size }),
    ...(storageClassName !== undefined && { storageClassName }),
    ...(accessModes !== undefined && { accessModes }),
  };
  return Object.keys(volume).length > 0 ? volume : undefined;
}

/** Whether `ancestor` is reached from `job` by its dependencies (breadth first, stopping there). */
function dependsOnTransitively(deps: Map<string, string[]>, job: string, ancestor: string) {
  const seen = new Set<string>([job]);
  const queue = [job];
  for (let head = 0; head < queue.length; head += 1) {
    for (const dep of deps.get(queue[head] as string) ?? []) {
      if (dep === ancestor) return true;
      if (seen.has(dep)) continue;
      seen.add(dep);
      queue.push(dep);
    }
  }
  return false;
}

/** The jobs in an order where every job comes after its dependencies (Kahn). */
function topologicalOrder(deps: Map<string, string[]>): string[] {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [job, ds] of deps) {
    waiting.set(job, ds.length);
    for (const d of ds) dependents.set(d, [...(dependents.get(d) ?? []), job]);
  }
  const order = [...deps.keys()].filter((j) => waiting.get(j) === 0);
  for (let head = 0; head < order.length; head += 1) {
    for (const next of dependents.get(order[head] as string) ?? []) {
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) order.push(next);
    }
  }
  return order;
}

/**
 * Two Kubernetes jobs that use the workspace and could run at the same time, when its volume is
 * mounted by one node at a time: the refusal, on the later of them (by its name as written, for
 * a matrix instance). `uses`: the jobs that use the workspace on Kubernetes.
 */
export function singleNodeWorkspaceIssue(
  pipeline: Pipeline,
  uses: ReadonlySet<string>,
  defaultAccessModes: readonly WorkspaceAccessMode[],
): { path: string; message: string } | undefined {
  const modes = pipeline.workspace?.accessModes ?? defaultAccessModes;
  if (modes.includes('ReadWriteMany') || uses.size < 2) return undefined;
  const deps = dependencyMap(pipeline.jobs);
  const chain = topologicalOrder(deps).filter((job) => uses.has(job));
  for (let i = 1; i < chain.length; i += 1) {
    const [earlier, later] = [chain[i - 1] as string, chain[i] as string];
    if (dependsOnTransitively(deps, later, earlier)) continue;
    const written = pipeline.jobs[later]?.matrixOf ?? later;
    return {
      path: `jobs.${written}`,
      message: `jobs "${earlier}" and "${later}" both use the run's workspace and may run at the same time, but its volume (${modes.join(', ')}) is mounted by one node at a time: make one depend on the other, or give the workspace accessModes: [ReadWriteMany] (with a storage class that offers it)`,
    };
  }
  return undefined;
}
