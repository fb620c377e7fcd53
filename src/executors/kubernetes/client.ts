/**
 * Connecting to the cluster: a KubeConfig from kubeconfig files (with an optional context and
 * namespace override) or from the pod's service account when running in the cluster, and the
 * typed API clients the executor uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';

export interface KubernetesConnection {
  /** Kubeconfig files, merged in order (KUBECONFIG's list); none: in-cluster or ~/.kube/config. */
  kubeconfigPaths?: string[];
  context?: string;
  /** Overrides the namespace of the context or of the service account. */
  namespace?: string;
  /** Running in a pod (KUBERNETES_SERVICE_HOST set): use its service account. */
  inCluster?: boolean;
}

export interface KubernetesClient {
  kubeConfig: KubeConfig;
  namespace: string;
  batch: BatchV1Api;
  core: CoreV1Api;
  watch: Watch;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

function loadKubeConfig(c: KubernetesConnection): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig();
  const [first, ...rest] = c.kubeconfigPaths ?? [];
  if (first !== undefined) {
    kc.loadFromFile(first);
    for (const path of rest) {
      const more = new KubeConfig();
      more.loadFromFile(path);
      kc.mergeConfig(more, true);
    }
    return { kc, source: `kubeconfig ${[first, ...rest].join(':')}` };
  }
  if (c.inCluster && existsSync(join(SERVICE_ACCOUNT, 'token'))) {
    kc.loadFromCluster();
    return { kc, source: 'the in-cluster service account' };
  }
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) {
    kc.loadFromFile(home);
    return { kc, source: `kubeconfig ${home}` };
  }
  throw new Error(
    'no Kubernetes configuration: set KUBECONFIG, run inside a cluster, or create ~/.kube/config',
  );
}

export function connectKubernetes(c: KubernetesConnection): KubernetesClient {
  const { kc, source } = loadKubeConfig(c);
  if (c.context !== undefined) {
    if (!kc.getContextObject(c.context))
      throw new Error(`Kubernetes context "${c.context}" is not in ${source}`);
    kc.setCurrentContext(c.context);
  }
  if (!kc.getCurrentCluster()) throw new Error(`${source} has no current context or cluster`);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace =
    c.namespace ??
    (contextNamespace?.trim() || undefined) ??
    serviceAccountNamespace() ??
    'default';
  return {
    kubeConfig: kc,
    namespace,
    batch: kc.makeApiClient(BatchV1Api),
    core: kc.makeApiClient(CoreV1Api),
    watch: new Watch(kc),
  };
}

function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(join(SERVICE_ACCOUNT, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
