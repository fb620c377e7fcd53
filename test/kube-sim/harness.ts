/** The simulator with a connected kubernetes executor, for the executor's end-to-end tests. */
import { randomUUID } from 'node:crypto';
import type {
  ExecutionRequest,
  ExecutionResult,
  ExecutionSettings,
} from '../../src/executors/executor.ts';
import type { ShellRequest } from '../executors/conformance.ts';
import { connectKubernetes, type KubernetesClient } from '../../src/executors/kubernetes/client.ts';
import {
  KubernetesExecutor,
  type KubernetesExecutorOptions,
} from '../../src/executors/kubernetes/executor.ts';
import type { Timing } from '../../src/executors/kubernetes/follow.ts';
import { kubernetesJobName } from '../../src/executors/kubernetes/naming.ts';
import { KubeSim, type KubeSimOptions } from './simulator.ts';

export interface Logged {
  line: string;
  stream: 'stdout' | 'stderr';
  /** The position the executor gave with the line (ExecutionIO.onLog). */
  position?: string;
}

export interface Execution {
  result: Promise<ExecutionResult>;
  logs: Logged[];
  controller: AbortController;
  /** Resolves when the job has logged this line. */
  logged(line: string, timeoutMs?: number): Promise<void>;
}

export const FAST_TIMING: Partial<Timing> = {
  backoff: { initialMs: 50, maxMs: 400 },
  logDrainMs: 2000,
  imagePullGraceMs: 600,
  unschedulableGraceMs: 600,
  // Each test's executor closes its watches as soon as its attempts end.
  informerIdleMs: 100,
};

export class SimHarness {
  private constructor(
    readonly sim: KubeSim,
    readonly client: KubernetesClient,
  ) {}

  static async start(options: KubeSimOptions = {}, namespace?: string): Promise<SimHarness> {
    const sim = await KubeSim.start({ stepMs: 50, killGraceMs: 1000, ...options });
    const client = connectKubernetes({
      kubeconfigPaths: [sim.writeKubeconfig(namespace ? { namespace } : {})],
    });
    return new SimHarness(sim, client);
  }

  executor(options: Partial<KubernetesExecutorOptions> = {}): KubernetesExecutor {
    return new KubernetesExecutor({
      client: this.client,
      ...options,
      timing: { ...FAST_TIMING, ...options.timing },
    });
  }

  request(run: string, extra: Partial<ExecutionSettings> = {}): ShellRequest {
    return {
      uid: randomUUID(),
      job: 'job',
      attempt: 1,
      image: 'busybox:1.36',
      run,
      env: {},
      ...extra,
    };
  }

  jobName(request: ExecutionRequest): string {
    return kubernetesJobName(request);
  }

  /** `recordedPosition`: the worker's log store (ExecutionIO), for a re-attach to resume from. */
  start(
    request: ExecutionRequest,
    executor: KubernetesExecutor = this.executor(),
    recordedPosition?: () => Promise<string | undefined>,
  ): Execution {
    const logs: Logged[] = [];
    const waiters: { line: string; done: () => void }[] = [];
    const controller = new AbortController();
    const result = executor.run(request, {
      onLog: (line, stream, position) => {
        logs.push({ line, stream, ...(position !== undefined && { position }) });
        for (const w of waiters.filter((x) => x.line === line)) w.done();
      },
      ...(recordedPosition && { recordedPosition }),
      signal: controller.signal,
    });
    return {
      result,
      logs,
      controller,
      logged: (line, timeoutMs = 10_000) =>
        new Promise<void>((resolve, reject) => {
          if (logs.some((l) => l.line === line)) return resolve();
          const timer = setTimeout(
            () =>
              reject(
                new Error(`"${line}" not logged within ${timeoutMs} ms: ${JSON.stringify(logs)}`),
              ),
            timeoutMs,
          );
          waiters.push({ line, done: () => (clearTimeout(timer), resolve()) });
        }),
    };
  }

  stop(): Promise<void> {
    return this.sim.stop();
  }
}

/** The job's own lines, without the executor's `chainr: ...` notes. */
export const jobLines = (logs: Logged[]) =>
  logs.filter((l) => !l.line.startsWith('chainr: ')).map((l) => l.line);
export const notes = (logs: Logged[]) =>
  logs.filter((l) => l.line.startsWith('chainr: ')).map((l) => l.line);
