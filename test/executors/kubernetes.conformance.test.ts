/**
 * The executor conformance suite on the kubernetes executor: against the Kubernetes API
 * simulator (test/kube-sim), or against a real cluster with `KUBECONFIG=... npm run test:k8s`.
 */
import { afterAll, beforeAll } from 'vitest';
import { connectKubernetes, type KubernetesClient } from '../../src/executors/kubernetes/client.ts';
import {
  KubernetesExecutor,
  WORKER_SHUTDOWN_REASON,
} from '../../src/executors/kubernetes/executor.ts';
import {
  attemptLabels,
  kubernetesJobName,
  selectorOf,
} from '../../src/executors/kubernetes/naming.ts';
import { KubeSim } from '../kube-sim/simulator.ts';
import { executorConformance } from './conformance.ts';
import { realCluster } from './real-cluster.ts';

let sim: KubeSim | undefined;
let client: KubernetesClient;

beforeAll(async () => {
  if (realCluster) {
    client = connectKubernetes(realCluster);
    return;
  }
  sim = await KubeSim.start({ stepMs: 50, killGraceMs: 1000 });
  client = connectKubernetes({ kubeconfigPaths: [sim.writeKubeconfig()] });
});

afterAll(async () => {
  await sim?.stop();
});

executorConformance({
  name: realCluster ? 'kubernetes (real cluster)' : 'kubernetes (simulator)',
  create: () =>
    new KubernetesExecutor({
      client,
      ttlSecondsAfterFinished: 600,
      timing: { backoff: { initialMs: 50, maxMs: 1000 }, logDrainMs: 3000 },
    }),
  image: realCluster?.image ?? 'busybox:1.36',
  separateStreams: false,
  supports: {
    timeout: true,
    outputs: true,
    reattach: {
      detachReason: WORKER_SHUTDOWN_REASON,
      async starts(request) {
        if (sim) return sim.jobsCreated(kubernetesJobName(request));
        // On a real cluster creations cannot be counted: one Job started one pod.
        const pods = await client.core.listNamespacedPod({
          namespace: client.namespace,
          labelSelector: selectorOf(attemptLabels(request)),
        });
        return pods.items.length;
      },
    },
  },
  startupMs: realCluster ? 60_000 : 2000,
});
