/**
 * The executor conformance suite on the kubernetes executor: against the Kubernetes API
 * simulator (test/kube-sim), or against a real cluster with `KUBECONFIG=... npm run test:k8s`;
 * once with jobs under the sh wrapper, once under chainr-exec delivered by an init container
 * (on a real cluster, when CHAINR_TEST_HELPER_IMAGE names chainr's image).
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
import { buildChainrExec, HELPER_IMAGE, type BuiltHelper } from '../fixtures/chainr-exec.ts';
import { KubeSim } from '../kube-sim/simulator.ts';
import { executorConformance } from './conformance.ts';
import { realCluster } from './real-cluster.ts';

let sim: KubeSim | undefined;
let helper: BuiltHelper | undefined;
let client: KubernetesClient;

beforeAll(async () => {
  if (realCluster) {
    client = connectKubernetes(realCluster);
    return;
  }
  helper = buildChainrExec();
  sim = await KubeSim.start({ stepMs: 50, killGraceMs: 1000, images: helper.images });
  client = connectKubernetes({ kubeconfigPaths: [sim.writeKubeconfig()] });
});

afterAll(async () => {
  await sim?.stop();
  helper?.remove();
});

const where = realCluster ? 'real cluster' : 'simulator';
const helperImage = realCluster ? realCluster.helperImage : HELPER_IMAGE;
for (const wrapper of ['sh', 'chainr-exec'] as const)
  if (wrapper === 'sh' || helperImage !== undefined) conformance(wrapper);

function conformance(wrapper: 'sh' | 'chainr-exec'): void {
  executorConformance({
    name: `kubernetes (${where}, jobs under ${wrapper})`,
    create: () =>
      new KubernetesExecutor({
        client,
        ttlSecondsAfterFinished: 600,
        ...(wrapper === 'chainr-exec' && helperImage !== undefined && { helperImage }),
        timing: {
          backoff: { initialMs: 50, maxMs: 1000 },
          logDrainMs: 3000,
          // A missing secret fails its job after this; a real cluster may take long to pull.
          ...(!realCluster && { imagePullGraceMs: 3000 }),
        },
      }),
    image: realCluster?.image ?? 'busybox:1.36',
    separateStreams: false,
    supports: {
      timeout: true,
      outputs: true,
      // A program without a shell needs chainr-exec in the pod.
      exec: wrapper === 'chainr-exec',
      secrets: {
        async put(name, data) {
          await client.core.createNamespacedSecret({
            namespace: client.namespace,
            body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data },
          });
        },
      },
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
}
