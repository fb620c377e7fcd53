/**
 * Garbage collection of chainr's Kubernetes Jobs, for the recycle service: Jobs whose run has
 * ended (a worker died before deleting a canceled attempt's Job, or TTL is off) or whose run no
 * longer exists (retention removed it) are deleted with their pods. Jobs of runs still open are
 * never touched. Which runs are open is the caller's knowledge (Redis), passed in.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { KubernetesClient } from './client.ts';
import { classifyApiError } from './errors.ts';
import { LABELS, MANAGED_BY, labelValue, selectorOf } from './naming.ts';

export type RunState = 'active' | 'ended' | 'missing';

export interface OrphanCollectionOptions {
  client: Pick<KubernetesClient, 'batch' | 'core' | 'namespace'>;
  /** The state of each run asked about, by uid. A uid left out counts as active. */
  runStates(uids: string[]): Promise<Map<string, RunState>>;
  /**
   * Jobs of runs that do not exist are kept while younger than this (default 10 minutes), in
   * case the run is not visible yet where the caller looks.
   */
  missingGraceMs?: number;
  /** Only Jobs with this chainr.io/instance label (several deployments in one namespace). */
  instance?: string;
  now?: number;
}

export interface CollectedOrphans {
  deleted: string[];
  failed: { name: string; message: string }[];
}

interface Candidate {
  name: string;
  run: string;
  createdMs: number;
}

/** Which Jobs to delete, given their runs' states. Pure. */
export function orphanedJobs(
  jobs: Candidate[],
  states: Map<string, RunState>,
  now: number,
  missingGraceMs: number,
): string[] {
  return jobs
    .filter((j) => {
      const state = states.get(j.run) ?? 'active';
      if (state === 'ended') return true;
      return state === 'missing' && now - j.createdMs >= missingGraceMs;
    })
    .map((j) => j.name);
}

function candidate(metadata: V1ObjectMeta | undefined): Candidate | undefined {
  const name = metadata?.name;
  const run = metadata?.labels?.[LABELS.run];
  if (!name || !run) return undefined;
  // Listed objects carry Dates; Date() also reads the string form.
  return { name, run, createdMs: new Date(metadata?.creationTimestamp ?? 0).getTime() };
}

type ListPage = {
  items: { metadata?: V1ObjectMeta }[];
  metadata?: { _continue?: string };
};

/** chainr's objects of one kind in the namespace (of this instance), page by page. */
async function listManaged(
  o: OrphanCollectionOptions,
  list: (query: {
    namespace: string;
    labelSelector: string;
    limit: number;
    _continue?: string;
  }) => Promise<ListPage>,
): Promise<Candidate[]> {
  const labels: Record<string, string> = { [LABELS.managedBy]: MANAGED_BY };
  if (o.instance !== undefined) labels[LABELS.instance] = labelValue(o.instance);
  const found: Candidate[] = [];
  let next: string | undefined;
  do {
    const page = await list({
      namespace: o.client.namespace,
      labelSelector: selectorOf(labels),
      limit: 500,
      ...(next !== undefined && { _continue: next }),
    });
    for (const item of page.items) {
      const c = candidate(item.metadata);
      if (c) found.push(c);
    }
    next = page.metadata?._continue || undefined;
  } while (next !== undefined);
  return found;
}

/** Deletes each object; one already gone counts as deleted. */
async function deleteAll(
  names: string[],
  remove: (name: string) => Promise<unknown>,
): Promise<CollectedOrphans> {
  const collected: CollectedOrphans = { deleted: [], failed: [] };
  for (const name of names) {
    try {
      await remove(name);
      collected.deleted.push(name);
    } catch (err) {
      const failure = classifyApiError(err);
      if (failure.kind === 'not-found') collected.deleted.push(name);
      else collected.failed.push({ name, message: failure.message });
    }
  }
  return collected;
}

export async function collectOrphans(o: OrphanCollectionOptions): Promise<CollectedOrphans> {
  const jobs = await listManaged(o, (q) => o.client.batch.listNamespacedJob(q));
  const states = await o.runStates([...new Set(jobs.map((j) => j.run))]);
  const names = orphanedJobs(jobs, states, o.now ?? Date.now(), o.missingGraceMs ?? 600_000);
  const namespace = o.client.namespace;
  return deleteAll(names, (name) =>
    o.client.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }),
  );
}

/**
 * Deletes the workspace claims (workspace-claim.ts) of runs that no longer exist: a run is deleted
 * only once ended, and the API server keeps a claim that a pod still uses (pvc-protection) until
 * that pod has ended, so no job loses its workspace.
 */
export async function collectWorkspaceClaims(
  o: OrphanCollectionOptions,
): Promise<CollectedOrphans> {
  const claims = await listManaged(o, (q) => o.client.core.listNamespacedPersistentVolumeClaim(q));
  const states = await o.runStates([...new Set(claims.map((c) => c.run))]);
  const now = o.now ?? Date.now();
  const grace = o.missingGraceMs ?? 600_000;
  const names = claims
    .filter((c) => states.get(c.run) === 'missing' && now - c.createdMs >= grace)
    .map((c) => c.name);
  const namespace = o.client.namespace;
  return deleteAll(names, (name) =>
    o.client.core.deleteNamespacedPersistentVolumeClaim({ name, namespace }),
  );
}
