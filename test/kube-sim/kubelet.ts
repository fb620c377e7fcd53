/**
 * Scheduler and kubelet in one: places each pod (or leaves it Pending as Unschedulable while that
 * fault holds), "pulls" its image (or reports ErrImagePull / ImagePullBackOff while that fault
 * holds), runs its first container as a local process (container-process.ts), reports each step
 * in the pod's status, and deletes pods gracefully (SIGTERM, then SIGKILL after the grace period).
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, runContainer, type ImageFiles } from './container-process.ts';
import type { Faults } from './faults.ts';
import { claimsOf } from './api-claims.ts';
import { resolveSecretRefs, secretData } from './api-secrets.ts';
import { runInitContainers } from './init-containers.ts';
import { PodLog } from './pod-log.ts';
import * as status from './pod-status.ts';
import { apiTime, type SimPod, type Store } from './store.ts';

export interface KubeletOptions {
  /** Parent of the pods' sandbox directories. */
  root: string;
  /** Pace of the scheduler's and image puller's retries. */
  stepMs: number;
  /** Replaces every pod's terminationGracePeriodSeconds, to keep tests short. */
  killGraceMs?: number;
  /** Images whose files a directory stands for (container-process.ts). */
  images?: ImageFiles;
}

interface PodRuntime {
  namespace: string;
  name: string;
  log: PodLog;
  sandbox: string;
  child?: ChildProcess;
  exited: boolean;
  deleting: boolean;
  oomKilled: boolean;
  killTimer?: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Kubelet {
  private readonly pods = new Map<string, PodRuntime>();

  constructor(
    private readonly store: Store,
    private readonly faults: Faults,
    private readonly options: KubeletOptions,
  ) {}

  logOf(namespace: string, name: string): PodLog | undefined {
    return this.pods.get(`${namespace}/${name}`)?.log;
  }

  start(pod: SimPod): void {
    const { namespace, name } = pod.metadata;
    const rt: PodRuntime = {
      namespace,
      name,
      log: new PodLog(),
      sandbox: join(this.options.root, name),
      exited: false,
      deleting: false,
      oomKilled: false,
    };
    this.pods.set(`${namespace}/${name}`, rt);
    this.lifecycle(rt, pod).catch((err: unknown) => {
      rt.log.append(`kube-sim: ${String(err)}`);
      rt.log.end();
    });
  }

  /** Deletes a pod gracefully: SIGTERM, SIGKILL after the grace period, then removal. */
  terminate(namespace: string, name: string, graceSeconds?: number): void {
    const rt = this.pods.get(`${namespace}/${name}`);
    if (!rt) {
      this.store.remove('pods', namespace, name);
      return;
    }
    if (rt.deleting) return;
    rt.deleting = true;
    const pod = this.store.update('pods', namespace, name, (p) => {
      p.metadata.deletionTimestamp = apiTime();
      p.metadata.deletionGracePeriodSeconds =
        graceSeconds ?? p.spec?.terminationGracePeriodSeconds ?? 30;
    });
    if (rt.child && !rt.exited) {
      killGroup(rt.child, 'SIGTERM');
      const graceMs =
        this.options.killGraceMs ?? (pod?.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
      rt.killTimer = setTimeout(() => killGroup(rt.child, 'SIGKILL'), graceMs);
    } else if (rt.exited) this.remove(rt);
    // Not started yet: the lifecycle sees `deleting` at its next step and removes the pod.
  }

  /** Kills every process at once (the simulator is stopping). */
  stopAll(): void {
    for (const rt of this.pods.values()) {
      rt.deleting = true;
      killGroup(rt.child, 'SIGKILL');
      clearTimeout(rt.killTimer);
    }
  }

  private setStatus(rt: PodRuntime, next: SimPod['status'], bindToNode = false): void {
    this.store.update('pods', rt.namespace, rt.name, (p) => {
      p.status = next;
      if (bindToNode && p.spec) p.spec.nodeName = 'sim-node-1';
    });
  }

  private async lifecycle(rt: PodRuntime, pod: SimPod): Promise<void> {
    const container = pod.spec?.containers[0];
    const image = container?.image ?? '';
    let shown = '';
    for (let why = this.unschedulable(pod); why !== undefined; why = this.unschedulable(pod)) {
      if (rt.deleting) return this.remove(rt);
      if (shown !== why) this.setStatus(rt, status.unschedulable((shown = why)));
      await sleep(this.options.stepMs);
    }
    const volumeDirs = this.claimVolumeDirs(pod);
    const startTime = apiTime();
    this.setStatus(rt, status.waiting(container, startTime, 'ContainerCreating'), true);
    for (let pulls = 0; this.faults.imagePull.has(image); pulls += 1) {
      if (rt.deleting) return this.remove(rt);
      if (pulls % 2 === 0)
        this.setStatus(
          rt,
          status.waiting(container, startTime, 'ErrImagePull', this.faults.imagePull.get(image)),
        );
      else
        this.setStatus(
          rt,
          status.waiting(
            container,
            startTime,
            'ImagePullBackOff',
            `Back-off pulling image "${image}"`,
          ),
        );
      await sleep(this.options.stepMs);
    }
    if (rt.deleting || !container) return this.remove(rt);
    // Variables from Secrets are read as the container is created; a missing one holds it.
    const resolve = () =>
      resolveSecretRefs(rt.namespace, container.env ?? [], (name) =>
        Promise.resolve(secretData(this.store.get('secrets', rt.namespace, name))),
      );
    let env = await resolve();
    for (; 'problem' in env; env = await resolve()) {
      if (rt.deleting) return this.remove(rt);
      this.setStatus(
        rt,
        status.waiting(container, startTime, 'CreateContainerConfigError', env.problem),
      );
      await sleep(this.options.stepMs);
    }
    const images = this.options.images ?? {};
    const init = await runInitContainers({
      podName: rt.name,
      pod,
      sandbox: rt.sandbox,
      startTime,
      images,
      report: (next) => this.setStatus(rt, next),
      started: (child) => (rt.child = child),
      deleting: () => rt.deleting,
    });
    if (!init.ok || rt.deleting) {
      rt.exited = true;
      rt.log.end();
      if (rt.deleting) this.remove(rt);
      return;
    }
    const withInits = (next: SimPod['status']) =>
      init.statuses.length > 0 ? { ...next, initContainerStatuses: init.statuses } : next;
    const result = await runContainer(
      rt.name,
      { ...container, env: env.env },
      rt.sandbox,
      rt.log,
      {
        started: (child, startedAt) => {
          rt.child = child;
          this.setStatus(rt, withInits(status.running(container, startTime, child.pid, startedAt)));
          // A deletion that came while the process was being started.
          if (rt.deleting) killGroup(child, 'SIGTERM');
          if (this.faults.oomKill.has(image))
            setTimeout(() => {
              rt.oomKilled = true;
              killGroup(child, 'SIGKILL');
            }, 50);
        },
        oomKilled: () => rt.oomKilled,
      },
      images,
      volumeDirs,
    );
    rt.exited = true;
    clearTimeout(rt.killTimer);
    this.setStatus(rt, withInits(status.terminated(container, startTime, rt.child?.pid, result)));
    rt.log.end();
    if (rt.deleting) this.remove(rt);
  }

  /** Why the scheduler leaves the pod Pending: an injected fault, or a claim it cannot use. */
  private unschedulable(pod: SimPod): string | undefined {
    const u = this.faults.unschedulable;
    if (u?.match(pod)) return u.message;
    const namespace = pod.metadata.namespace;
    for (const name of claimsOf(pod)) {
      const claim = this.store.get('persistentvolumeclaims', namespace, name);
      if (!claim) return `0/1 nodes are available: persistentvolumeclaim "${name}" not found.`;
      if (claim.metadata.deletionTimestamp)
        return `0/1 nodes are available: persistentvolumeclaim "${name}" is being deleted.`;
      if (claim.status?.phase !== 'Bound')
        return '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.';
    }
    return undefined;
  }

  /** The pod's volumes that are bound claims, by volume name: one directory per bound volume. */
  private claimVolumeDirs(pod: SimPod): Record<string, string> {
    const dirs: Record<string, string> = {};
    for (const v of pod.spec?.volumes ?? []) {
      const claimName = v.persistentVolumeClaim?.claimName;
      if (claimName === undefined) continue;
      const claim = this.store.get('persistentvolumeclaims', pod.metadata.namespace, claimName);
      const volume = claim?.spec?.volumeName;
      if (volume) dirs[v.name] = join(this.options.root, 'persistent-volumes', volume);
    }
    return dirs;
  }

  private remove(rt: PodRuntime): void {
    rt.log.end();
    this.pods.delete(`${rt.namespace}/${rt.name}`);
    this.store.remove('pods', rt.namespace, rt.name);
    rmSync(rt.sandbox, { recursive: true, force: true });
  }
}
