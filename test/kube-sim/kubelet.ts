/**
 * Scheduler and kubelet in one: places each pod (or leaves it Pending as Unschedulable while that
 * fault holds), "pulls" its image (or reports ErrImagePull / ImagePullBackOff while that fault
 * holds), runs its init containers one after the other and then all its containers at once, each
 * as a local process (container-process.ts), reports each step in the pod's status, and deletes
 * pods gracefully (SIGTERM to every process, then SIGKILL after the grace period).
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
import type { IContainer } from 'kubernetes-models/v1/Container';

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
  /** Each container's log, by name. */
  logs: Map<string, PodLog>;
  sandbox: string;
  /** The processes running now (an init container's, or the containers'). */
  children: Set<ChildProcess>;
  exited: boolean;
  deleting: boolean;
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

  logOf(namespace: string, name: string, container: string): PodLog | undefined {
    return this.pods.get(`${namespace}/${name}`)?.logs.get(container);
  }

  start(pod: SimPod): void {
    const { namespace, name } = pod.metadata;
    const rt: PodRuntime = {
      namespace,
      name,
      logs: new Map((pod.spec?.containers ?? []).map((c) => [c.name, new PodLog()])),
      sandbox: join(this.options.root, name),
      children: new Set(),
      exited: false,
      deleting: false,
    };
    this.pods.set(`${namespace}/${name}`, rt);
    this.lifecycle(rt, pod).catch((err: unknown) => {
      for (const log of rt.logs.values()) {
        log.append(`kube-sim: ${String(err)}`);
        log.end();
      }
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
    if (rt.children.size > 0 && !rt.exited) {
      for (const child of rt.children) killGroup(child, 'SIGTERM');
      const graceMs =
        this.options.killGraceMs ?? (pod?.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
      rt.killTimer = setTimeout(() => {
        for (const child of rt.children) killGroup(child, 'SIGKILL');
      }, graceMs);
    } else if (rt.exited) this.remove(rt);
    // Not started yet: the lifecycle sees `deleting` at its next step and removes the pod.
  }

  /** Kills every process at once (the simulator is stopping). */
  stopAll(): void {
    for (const rt of this.pods.values()) {
      rt.deleting = true;
      for (const child of rt.children) killGroup(child, 'SIGKILL');
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
    const containers = pod.spec?.containers ?? [];
    const faulty = containers.find((c) => this.faults.imagePull.has(c.image ?? ''))?.image ?? '';
    let shown = '';
    for (let why = this.unschedulable(pod); why !== undefined; why = this.unschedulable(pod)) {
      if (rt.deleting) return this.remove(rt);
      if (shown !== why) this.setStatus(rt, status.unschedulable((shown = why)));
      await sleep(this.options.stepMs);
    }
    const volumeDirs = this.claimVolumeDirs(pod);
    const startTime = apiTime();
    this.setStatus(rt, status.waiting(containers, startTime, 'ContainerCreating'), true);
    for (let pulls = 0; this.faults.imagePull.has(faulty); pulls += 1) {
      if (rt.deleting) return this.remove(rt);
      if (pulls % 2 === 0)
        this.setStatus(
          rt,
          status.waiting(containers, startTime, 'ErrImagePull', this.faults.imagePull.get(faulty)),
        );
      else
        this.setStatus(
          rt,
          status.waiting(
            containers,
            startTime,
            'ImagePullBackOff',
            `Back-off pulling image "${faulty}"`,
          ),
        );
      await sleep(this.options.stepMs);
    }
    if (rt.deleting || containers.length === 0) return this.remove(rt);
    // Variables from Secrets are read as each container is created; a missing one holds it.
    const resolve = async () => {
      const envs = new Map<string, IContainer['env']>();
      for (const c of [...(pod.spec?.initContainers ?? []), ...containers]) {
        const env = await resolveSecretRefs(rt.namespace, c.env ?? [], (name) =>
          Promise.resolve(secretData(this.store.get('secrets', rt.namespace, name))),
        );
        if ('problem' in env) return env;
        envs.set(c.name, env.env);
      }
      return { envs };
    };
    let envs = await resolve();
    for (; 'problem' in envs; envs = await resolve()) {
      if (rt.deleting) return this.remove(rt);
      this.setStatus(
        rt,
        status.waiting(containers, startTime, 'CreateContainerConfigError', envs.problem),
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
      envOf: (name) => envs.envs.get(name) ?? [],
      report: (next) => this.setStatus(rt, next),
      started: (child) => {
        rt.children.clear();
        rt.children.add(child);
      },
      deleting: () => rt.deleting,
    });
    rt.children.clear();
    if (!init.ok || rt.deleting) {
      rt.exited = true;
      for (const log of rt.logs.values()) log.end();
      if (rt.deleting) this.remove(rt);
      return;
    }
    const runs = new Map<string, status.ContainerRun>();
    const report = () => {
      const next = status.podStatus(containers, startTime, runs);
      this.setStatus(
        rt,
        init.statuses.length > 0 ? { ...next, initContainerStatuses: init.statuses } : next,
      );
    };
    await Promise.all(
      containers.map(async (container) => {
        const log = rt.logs.get(container.name) ?? new PodLog();
        let pid: number | undefined;
        let oomKilled = false;
        const result = await runContainer(
          rt.name,
          { ...container, env: envs.envs.get(container.name) ?? [] },
          rt.sandbox,
          log,
          {
            started: (child, startedAt) => {
              pid = child.pid;
              rt.children.add(child);
              runs.set(container.name, { kind: 'running', pid, startedAt });
              report();
              // A deletion that came while the process was being started.
              if (rt.deleting) killGroup(child, 'SIGTERM');
              if (this.faults.oomKill.has(container.image ?? ''))
                setTimeout(() => {
                  oomKilled = true;
                  killGroup(child, 'SIGKILL');
                }, 50);
            },
            oomKilled: () => oomKilled,
          },
          images,
          volumeDirs,
        );
        runs.set(container.name, { kind: 'terminated', pid, result });
        log.end();
        // The last container's end is reported with the pod's.
        if (
          [...runs.values()].some((r) => r.kind !== 'terminated') ||
          runs.size < containers.length
        )
          report();
      }),
    );
    rt.exited = true;
    clearTimeout(rt.killTimer);
    report();
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
    for (const log of rt.logs.values()) log.end();
    this.pods.delete(`${rt.namespace}/${rt.name}`);
    this.store.remove('pods', rt.namespace, rt.name);
    rmSync(rt.sandbox, { recursive: true, force: true });
  }
}
