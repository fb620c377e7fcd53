/**
 * The simulator's etcd: objects by resource/namespace/name, one resourceVersion counter for all,
 * and the history of changes that watches resume from. A watch from a resourceVersion older than
 * the retained history gets 410 Expired, as after an etcd compaction.
 */
import { randomUUID } from 'node:crypto';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { ISecret } from 'kubernetes-models/v1/Secret';

export type Resource = 'jobs' | 'pods' | 'persistentvolumeclaims' | 'secrets';

/** Object metadata as the server fills it: these fields are always set on stored objects. */
export type ObjectMeta = IObjectMeta & {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
};

export type SimJob = Omit<IJob, 'metadata'> & { metadata: ObjectMeta };
export type SimPod = Omit<IPod, 'metadata'> & { metadata: ObjectMeta };
export type SimClaim = Omit<IPersistentVolumeClaim, 'metadata'> & { metadata: ObjectMeta };
export type SimSecret = Omit<ISecret, 'metadata'> & { metadata: ObjectMeta };
export type KubeObject = SimJob | SimPod | SimClaim | SimSecret;

interface ByResource {
  jobs: SimJob;
  pods: SimPod;
  persistentvolumeclaims: SimClaim;
  secrets: SimSecret;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  resource: Resource;
  object: KubeObject;
  rv: number;
}

/** A new object's metadata as written, in `namespace`: Store.create fills in the rest. */
export const newMetadata = (metadata: IObjectMeta | undefined, namespace: string): ObjectMeta => ({
  ...metadata,
  name: metadata?.name ?? '',
  namespace,
  uid: '',
  resourceVersion: '',
  creationTimestamp: '',
});

/** RFC 3339 at second precision, as metav1.Time serializes. */
export const apiTime = (date = new Date()) => date.toISOString().replace(/\.\d+Z$/, 'Z');

const key = (resource: Resource, namespace: string, name: string) =>
  `${resource}/${namespace}/${name}`;

export type WatchStart =
  { ok: true; stop: () => void } | { ok: false; expired: { requested: string; oldest: number } };

export class Store {
  private rv = 1000;
  private readonly objects = new Map<string, KubeObject>();
  private history: StoreEvent[] = [];
  /** The oldest resourceVersion a watch may still start from. */
  private oldest = 1000;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  constructor(private readonly maxHistory = 10_000) {}

  currentRv(): string {
    return String(this.rv);
  }

  get<R extends Resource>(resource: R, namespace: string, name: string): ByResource[R] | undefined {
    const found = this.objects.get(key(resource, namespace, name));
    return found && (structuredClone(found) as ByResource[R]);
  }

  list<R extends Resource>(
    resource: R,
    filter: (o: ByResource[R]) => boolean = () => true,
  ): ByResource[R][] {
    const prefix = `${resource}/`;
    return [...this.objects]
      .filter(([k, o]) => k.startsWith(prefix) && filter(o as ByResource[R]))
      .map(([, o]) => structuredClone(o) as ByResource[R]);
  }

  create<R extends Resource>(resource: R, object: ByResource[R]): ByResource[R] {
    const meta = object.metadata;
    const k = key(resource, meta.namespace, meta.name);
    if (this.objects.has(k)) throw new Error(`${k} exists`);
    this.rv += 1;
    meta.uid ||= randomUUID();
    meta.resourceVersion = String(this.rv);
    meta.creationTimestamp = apiTime();
    this.objects.set(k, structuredClone(object));
    this.emit({ type: 'ADDED', resource, object, rv: this.rv });
    return structuredClone(object);
  }

  /** Applies `change` to the stored object; undefined when it does not exist. */
  update<R extends Resource>(
    resource: R,
    namespace: string,
    name: string,
    change: (o: ByResource[R]) => void,
  ): ByResource[R] | undefined {
    const k = key(resource, namespace, name);
    const current = this.objects.get(k);
    if (!current) return undefined;
    const next = structuredClone(current) as ByResource[R];
    change(next);
    this.rv += 1;
    next.metadata.resourceVersion = String(this.rv);
    this.objects.set(k, next);
    this.emit({ type: 'MODIFIED', resource, object: next, rv: this.rv });
    return structuredClone(next);
  }

  remove<R extends Resource>(
    resource: R,
    namespace: string,
    name: string,
  ): ByResource[R] | undefined {
    const k = key(resource, namespace, name);
    const current = this.objects.get(k);
    if (!current) return undefined;
    this.objects.delete(k);
    this.rv += 1;
    current.metadata.resourceVersion = String(this.rv);
    this.emit({ type: 'DELETED', resource, object: current, rv: this.rv });
    return structuredClone(current) as ByResource[R];
  }

  /** Forgets the history: every watch resuming from an earlier resourceVersion gets 410. */
  compact(): void {
    this.history = [];
    this.oldest = this.rv;
  }

  /** Controllers' view: every change, synchronously. */
  onChange(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A watch: from `fromRv` ("" or "0": synthetic ADDED events for what exists now, then changes;
   * N: every change after N, or expired when N was compacted away).
   */
  watch(
    resource: Resource,
    matches: (o: KubeObject) => boolean,
    fromRv: string,
    send: (type: EventType, object: KubeObject) => void,
  ): WatchStart {
    const from = Number(fromRv || '0');
    if (from !== 0 && from < this.oldest)
      return { ok: false, expired: { requested: fromRv, oldest: this.oldest } };
    if (from === 0) for (const o of this.list(resource, matches)) send('ADDED', o);
    else
      for (const e of this.history)
        if (e.rv > from && e.resource === resource && matches(e.object))
          send(e.type, structuredClone(e.object));
    const listener = (e: StoreEvent) => {
      if (e.resource === resource && matches(e.object)) send(e.type, structuredClone(e.object));
    };
    this.listeners.add(listener);
    return { ok: true, stop: () => this.listeners.delete(listener) };
  }

  private emit(event: StoreEvent): void {
    const stored = { ...event, object: structuredClone(event.object) };
    this.history.push(stored);
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.shift();
      if (dropped) this.oldest = dropped.rv;
    }
    for (const l of [...this.listeners]) l({ ...event, object: structuredClone(event.object) });
  }
}
