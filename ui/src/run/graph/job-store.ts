/**
 * The jobs' live state for the graph's nodes, outside the graph library's own store: a status
 * change re-renders that one node, and the library does not re-examine all of them.
 */
import { createContext, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';
import type { Job } from '../../../../src/api/wire.ts';
import type { JobStatus } from '../../../../src/core/types.ts';

export class JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(jobs: readonly Job[] = []) {
    for (const job of jobs) this.jobs.set(job.name, job);
  }

  get(name: string): Job | undefined {
    return this.jobs.get(name);
  }

  subscribe(name: string, listener: () => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Takes the jobs as they are now; tells the nodes whose job object changed. */
  update(jobs: readonly Job[]): void {
    for (const job of jobs) {
      if (this.jobs.get(job.name) === job) continue;
      this.jobs.set(job.name, job);
      for (const listener of this.listeners.get(job.name) ?? []) listener();
    }
  }
}

export const JobStoreContext = createContext<JobStore | undefined>(undefined);

/** A job's current state (undefined in a preview, where nothing has run). */
export function useJob(name: string): Job | undefined {
  const store = useContext(JobStoreContext);
  const subscribe = useCallback(
    (listener: () => void) => (store ? store.subscribe(name, listener) : () => undefined),
    [store, name],
  );
  return useSyncExternalStore(subscribe, () => store?.get(name));
}

/**
 * The statuses of several jobs (a group's instances), PENDING for one not known yet. Read as one
 * string, so that the group re-renders only when one of them changes.
 */
export function useStatuses(names: readonly string[]): JobStatus[] {
  const store = useContext(JobStoreContext);
  const subscribe = useCallback(
    (listener: () => void) => {
      const stops = store ? names.map((name) => store.subscribe(name, listener)) : [];
      return () => stops.forEach((stop) => stop());
    },
    [store, names],
  );
  const joined = useSyncExternalStore(subscribe, () =>
    names.map((name) => store?.get(name)?.status ?? 'PENDING').join(','),
  );
  return useMemo(() => (joined === '' ? [] : (joined.split(',') as JobStatus[])), [joined]);
}
