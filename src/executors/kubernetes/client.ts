/**
 * Connecting to the cluster: a KubeConfig from kubeconfig files (with an optional context and
 * namespace override) or from the pod's service account when running in the cluster, and the
 * typed API clients the executor uses.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  BatchV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  Watch,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import {
  ApiRateLimiter,
  retryAfterSeconds,
  type RateLimits,
  type RequestKind,
} from './rate-limit.ts';

export interface KubernetesConnection {
  /** Kubeconfig files, merged in order (KUBECONFIG's list); none: in-cluster or ~/.kube/config. */
  kubeconfigPaths?: string[];
  context?: string;
  /** Overrides the namespace of the context or of the service account. */
  namespace?: string;
  /** Running in a pod (KUBERNETES_SERVICE_HOST set): use its service account. */
  inCluster?: boolean;
  /** Client-side limits of requests to the API server (rate-limit.ts). */
  rateLimits?: RateLimits;
}

export interface KubernetesClient {
  kubeConfig: KubeConfig;
  namespace: string;
  batch: BatchV1Api;
  core: CoreV1Api;
  watch: Watch;
  /** Every request waits for it; watches and log streams call it themselves. */
  limiter: ApiRateLimiter;
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
  return clientFor(kc, namespace, c.rateLimits);
}

const KIND_OF_METHOD: Record<string, RequestKind> = { POST: 'create', DELETE: 'delete' };

/**
 * KubeConfig gives every request an HTTPS agent of its own, so each create, get or list opened a
 * connection and shook hands again (two more round trips before the request, and the handshake's
 * CPU on both ends). Requests are given one keep-alive agent per set of TLS credentials instead
 * (a rotated client certificate gets its own). Agents through a proxy are left as they are.
 */
function keepAliveAgents(): (agent: unknown) => unknown {
  const shared = new Map<string, HttpsAgent>();
  return (agent) => {
    if (!(agent instanceof HttpsAgent) || agent.constructor !== HttpsAgent) return agent;
    const options = (agent as HttpsAgent & { options: AgentOptions }).options;
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized } = options;
    const id = createHash('sha256')
      .update(JSON.stringify([ca, cert, key, pfx, passphrase, rejectUnauthorized].map(String)))
      .digest('hex');
    let kept = shared.get(id);
    if (!kept) shared.set(id, (kept = new HttpsAgent({ ...options, keepAlive: true })));
    return kept;
  };
}

/**
 * The executor's API clients for a loaded KubeConfig: as KubeConfig.makeApiClient makes them, with
 * each request waiting for the rate limiter, and a 429 pausing them all for its Retry-After.
 */
export function clientFor(
  kc: KubeConfig,
  namespace: string,
  rateLimits?: RateLimits,
): KubernetesClient {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const limiter = new ApiRateLimiter(rateLimits);
  const keepAlive = keepAliveAgents();
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (context: RequestContext) => {
          await limiter.acquire(KIND_OF_METHOD[context.getHttpMethod()] ?? 'read');
          const agent = keepAlive(context.getAgent());
          if (agent instanceof HttpsAgent) context.setAgent(agent);
          return context;
        },
        post: (response: ResponseContext) => {
          if (response.httpStatusCode === 429)
            limiter.rejected(retryAfterSeconds(response.headers['retry-after']));
          return Promise.resolve(response);
        },
      },
    ],
  });
  return {
    kubeConfig: kc,
    namespace,
    batch: new BatchV1Api(configuration),
    core: new CoreV1Api(configuration),
    watch: new Watch(kc),
    limiter,
  };
}

function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(join(SERVICE_ACCOUNT, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
