/**
 * A pod's init containers, run one after the other before its container, as the kubelet runs
 * them: in the pod's sandbox (so they share its volumes), and with restartPolicy Never the first
 * that fails fails the pod, whose container then never starts. Each step is reported as the
 * pod's status; the statuses of the init containers that ran are kept in the pod's status after.
 */
import type { ChildProcess } from 'node:child_process';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IContainerStatus } from 'kubernetes-models/v1/ContainerStatus';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodStatus } from 'kubernetes-models/v1/PodStatus';
import { runContainer, type ImageFiles } from './container-process.ts';
import { PodLog } from './pod-log.ts';
import * as status from './pod-status.ts';

export interface InitRun {
  podName: string;
  pod: IPod;
  sandbox: string;
  startTime: string;
  images: ImageFiles;
  /** An init container's variables, Secrets' values read (as the kubelet reads them); as written when not given. */
  envOf?(name: string): IContainer['env'];
  /** Reports the pod's status (awaited, so that reports keep their order). */
  report(next: IPodStatus): Promise<void> | void;
  /** An init container's process started: a deletion must stop it. */
  started(child: ChildProcess): void;
  /** Whether the pod is being deleted: no further init container starts. */
  deleting(): boolean;
}

export async function runInitContainers(
  run: InitRun,
): Promise<{ ok: true; statuses: IContainerStatus[] } | { ok: false }> {
  const containers = run.pod.spec?.containers ?? [];
  const statuses: IContainerStatus[] = [];
  for (const init of run.pod.spec?.initContainers ?? []) {
    if (run.deleting()) return { ok: false };
    let pid: number | undefined;
    // The init container's own log: chainr reads only the job container's.
    const result = await runContainer(
      run.podName,
      { ...init, env: run.envOf ? run.envOf(init.name) : init.env },
      run.sandbox,
      new PodLog(),
      {
        started: (child, startedAt) => {
          pid = child.pid;
          run.started(child);
          void run.report(
            status.initializing(containers, run.startTime, statuses, { init, pid, startedAt }),
          );
        },
        oomKilled: () => false,
      },
      run.images,
    );
    statuses.push(status.initTerminated(init, pid, result));
    if (result.exitCode !== 0) {
      await run.report(status.initFailed(containers, run.startTime, statuses));
      return { ok: false };
    }
  }
  return { ok: true, statuses };
}
