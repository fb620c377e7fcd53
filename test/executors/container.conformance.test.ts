/**
 * The executor conformance suite on the container executor, with podman from the host and an
 * image built by the tests (test/executors/podman.ts). Skipped where podman is not installed.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { containerName } from '../../src/executors/container/args.ts';
import { engineSpawner, type SpawnEngine } from '../../src/executors/container/engine.ts';
import {
  ContainerExecutor,
  WORKER_SHUTDOWN_REASON,
} from '../../src/executors/container/executor.ts';
import { executorConformance } from './conformance.ts';
import { podmanAvailable, startPodman, type TestEngine } from './podman.ts';

const available = podmanAvailable();
let engine: TestEngine | undefined;
/** `create` invocations by container name: how many times each attempt was started. */
const starts = new Map<string, number>();

beforeAll(() => {
  if (available) engine = startPodman();
}, 120_000);
afterAll(() => engine?.stop());

/** podman with the worker's environment of the moment (so the env test's secret is in it). */
const counting = (): SpawnEngine => (args, env) => {
  if (args[0] === 'create') {
    const name = args[args.indexOf('--name') + 1] ?? '';
    starts.set(name, (starts.get(name) ?? 0) + 1);
  }
  return engineSpawner('podman', engine?.env())(args, env);
};

describe.skipIf(!available)('container executor (podman)', () => {
  executorConformance({
    name: 'container (podman)',
    create: () =>
      new ContainerExecutor({
        engine: 'podman',
        ...(engine && { workRoot: engine.workRoot }),
        stopGraceSeconds: 1,
        spawn: counting(),
      }),
    image: 'localhost/busybox',
    separateStreams: true,
    supports: {
      timeout: true,
      outputs: true,
      exec: true,
      reattach: {
        detachReason: WORKER_SHUTDOWN_REASON,
        starts: (request) => Promise.resolve(starts.get(containerName(request)) ?? 0),
      },
    },
    startupMs: 5000,
    concurrent: true,
  });
});
