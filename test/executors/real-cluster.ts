/**
 * `npm run test:k8s` runs the Kubernetes end-to-end tests against the cluster of KUBECONFIG
 * instead of the simulator. It is opt-in through CHAINR_TEST_REAL_CLUSTER=1 (which that script
 * sets), so that a KUBECONFIG in a developer's shell never sends ordinary test runs to a cluster.
 */
export interface RealCluster {
  kubeconfigPaths: string[];
  context?: string;
  namespace?: string;
  /** An image with a POSIX sh (CHAINR_TEST_IMAGE, default busybox:1.36). */
  image: string;
  /** chainr's image, built from deploy/Dockerfile (CHAINR_TEST_HELPER_IMAGE): jobs under chainr-exec. */
  helperImage?: string;
}

function fromEnv(env: NodeJS.ProcessEnv): RealCluster | undefined {
  if (env.CHAINR_TEST_REAL_CLUSTER !== '1') return undefined;
  const paths = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (paths.length === 0)
    throw new Error('npm run test:k8s needs KUBECONFIG=<file> pointing at a cluster');
  return {
    kubeconfigPaths: paths,
    ...(env.CHAINR_KUBERNETES_CONTEXT && { context: env.CHAINR_KUBERNETES_CONTEXT }),
    ...(env.CHAINR_KUBERNETES_NAMESPACE && { namespace: env.CHAINR_KUBERNETES_NAMESPACE }),
    image: env.CHAINR_TEST_IMAGE ?? 'busybox:1.36',
    ...(env.CHAINR_TEST_HELPER_IMAGE && { helperImage: env.CHAINR_TEST_HELPER_IMAGE }),
  };
}

export const realCluster = fromEnv(process.env);
