/**
 * Shared informers, as client-go's: one list-and-watch per kind (Jobs, pods) for the whole worker,
 * selecting chainr's objects by label, and a local cache that every attempt the worker follows
 * reads from. An attempt subscribes to the key of its Job (the Job's name; for pods, the name of
 * the Job that controls them) and is told when an object of that key changes, when the cache is
 * replaced by a list, and at each resync (the cache handed out again, so that time-based decisions
 * are taken again even when nothing changes). The watches are opened when the first attempt is
 * followed and closed once none has been for `idleMs`, so that a worker running one job after the
 * other does not list again for each.
 */
import type { V1Job, V1Pod, Watch } from '@kubernetes/client-node';
import type { Backoff } from './backoff.ts';
import type { KubernetesClient } from './client.ts';
import type { ApiFailure } from './errors.ts';
import { LABELS, MANAGED_BY, labelValue, selectorOf } from './naming.ts';
import { reflect, type Named, type WatchEventType } from './reflector.ts';

export interface InformerTiming {
  backoff: Backoff;
  watchTimeoutSeconds: number;
  /** How often subscribers are handed the cache again without a change (ms). */
  resyncMs: number;
  /** How long the watches stay open once no attempt is followed (ms). */
  informerIdleMs: number;
}

type Listener = () => void;

interface Source<T> {
  path: string;
  list(labelSelector: string): Promise<{ items: T[]; resourceVersion: string }>;
  /** The key an object is cached and announced under. */
  keyOf(object: T): string | undefined;
}

/** One kind's cache, fed by one reflector. */
export class Informer<T extends Named> {
  private readonly byKey = new Map<string, Map<string, T>>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private listed = false;
  private fatal: ApiFailure | undefined;

  constructor(
    private readonly source: Source<T>,
    private readonly watch: Watch,
    private readonly labelSelector: string,
    private readonly beforeWatch: () => Promise<void>,
  ) {}

  /** Whether the first list has arrived: until then an empty cache says nothing. */
  get synced(): boolean {
    return this.listed;
  }

  /** The failure that stopped this informer (403...), if one did. */
  get failure(): ApiFailure | undefined {
    return this.fatal;
  }

  /** The cached objects of a key. */
  get(key: string): T[] {
    return [...(this.byKey.get(key)?.values() ?? [])];
  }

  /** How many objects are cached (for the metrics). */
  get size(): number {
    let n = 0;
    for (const m of this.byKey.values()) n += m.size;
    return n;
  }

  subscribe(key: string, listener: Listener): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  /** Hands every subscriber the cache again. */
  resync(): void {
    for (const set of [...this.listeners.values()]) for (const l of [...set]) l();
  }

  run(
    timing: InformerTiming,
    signal: AbortSignal,
    onRetry: (message: string) => void,
  ): Promise<void> {
    return reflect<T>({
      list: () => this.source.list(this.labelSelector),
      watch: this.watch,
      path: this.source.path,
      query: { labelSelector: this.labelSelector },
      backoff: timing.backoff,
      watchTimeoutSeconds: timing.watchTimeoutSeconds,
      signal,
      onRetry,
      beforeWatch: this.beforeWatch,
      onList: (items) => {
        this.byKey.clear();
        for (const item of items) this.store(item);
        this.listed = true;
        this.resync();
      },
      onEvent: (type, object) => this.apply(type, object),
      onFatal: (failure) => {
        this.fatal = failure;
        this.resync();
      },
    });
  }

  private store(object: T): string | undefined {
    const key = this.source.keyOf(object);
    const name = object.metadata?.name;
    if (key === undefined || name === undefined) return undefined;
    // Nobody reads who wrote which field: most of a cached object's size.
    const meta = object.metadata as { managedFields?: unknown };
    delete meta.managedFields;
    let objects = this.byKey.get(key);
    if (!objects) this.byKey.set(key, (objects = new Map<string, T>()));
    objects.set(name, object);
    return key;
  }

  private apply(type: WatchEventType, object: T): void {
    const key = this.source.keyOf(object);
    if (key === undefined) return;
    if (type === 'DELETED') {
      const objects = this.byKey.get(key);
      objects?.delete(object.metadata?.name ?? '');
      if (objects?.size === 0) this.byKey.delete(key);
    } else this.store(object);
    for (const l of [...(this.listeners.get(key) ?? [])]) l();
  }
}

/** The Job that controls a pod: its owner reference (the same in every Kubernetes version). */
const controllingJob = (pod: V1Pod) =>
  pod.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'Job')?.name;

/** The worker's informers of Jobs and pods, open while attempts are followed. */
export class JobInformers {
  private active:
    | { jobs: Informer<V1Job>; pods: Informer<V1Pod>; stop: AbortController; done: Promise<void> }
    | undefined;
  private users = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubernetesClient,
    private readonly timing: InformerTiming,
    private readonly instance: string | undefined,
    private readonly onRetry: (message: string) => void = () => undefined,
  ) {}

  /** The label selector of the objects cached: chainr's, of this instance when it has one. */
  get labelSelector(): string {
    return selectorOf({
      [LABELS.managedBy]: MANAGED_BY,
      ...(this.instance !== undefined && { [LABELS.instance]: labelValue(this.instance) }),
    });
  }

  /** How many objects the caches hold. */
  get cachedObjects(): number {
    return this.active ? this.active.jobs.size + this.active.pods.size : 0;
  }

  /** How many watches are open (one per kind while any attempt is followed). */
  get openWatches(): number {
    return this.active ? 2 : 0;
  }

  /** The caches, opened if they are not; `release` when the attempt is no longer followed. */
  acquire(): { jobs: Informer<V1Job>; pods: Informer<V1Pod>; release: () => void } {
    clearTimeout(this.idleTimer);
    this.users += 1;
    // A cache whose informer met a fatal failure is replaced: the next attempt tries again.
    if (this.active && (this.active.jobs.failure || this.active.pods.failure)) void this.close();
    const active = (this.active ??= this.open());
    let released = false;
    return {
      jobs: active.jobs,
      pods: active.pods,
      release: () => {
        if (released) return;
        released = true;
        this.users -= 1;
        if (this.users > 0) return;
        this.idleTimer = setTimeout(() => void this.close(), this.timing.informerIdleMs);
        this.idleTimer.unref();
      },
    };
  }

  /** Closes the watches now (the worker is stopping). */
  close(): Promise<void> {
    clearTimeout(this.idleTimer);
    clearInterval(this.resyncTimer);
    const active = this.active;
    this.active = undefined;
    if (!active) return Promise.resolve();
    active.stop.abort();
    return active.done;
  }

  private open() {
    const { client } = this;
    const namespace = client.namespace;
    const jobs = new Informer<V1Job>(
      {
        path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
        list: async (labelSelector) => {
          const l = await client.batch.listNamespacedJob({ namespace, labelSelector });
          return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
        },
        keyOf: (job) => job.metadata?.name,
      },
      client.watch,
      this.labelSelector,
      () => client.limiter.acquire('read'),
    );
    const pods = new Informer<V1Pod>(
      {
        path: `/api/v1/namespaces/${namespace}/pods`,
        list: async (labelSelector) => {
          const l = await client.core.listNamespacedPod({ namespace, labelSelector });
          return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
        },
        keyOf: controllingJob,
      },
      client.watch,
      this.labelSelector,
      () => client.limiter.acquire('read'),
    );
    const stop = new AbortController();
    const done = Promise.all([
      jobs.run(this.timing, stop.signal, this.onRetry),
      pods.run(this.timing, stop.signal, this.onRetry),
    ]).then(() => undefined);
    this.resyncTimer = setInterval(() => {
      jobs.resync();
      pods.resync();
    }, this.timing.resyncMs);
    this.resyncTimer.unref();
    return { jobs, pods, stop, done };
  }
}
