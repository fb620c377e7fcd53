/** `chainr chaos kubernetes`: deletes a random pod matching a label selector, as a node failure would. */
import type { CoreV1Api } from '@kubernetes/client-node';

export interface PodVictimOptions {
  namespace: string;
  /** A label selector such as `app.kubernetes.io/part-of=chainr,app.kubernetes.io/instance=prod`. */
  selector: string;
  /** The monkey's own pod, never deleted. */
  spare?: string;
  random?: () => number;
}

/** Deletes one matching pod not already terminating; returns its name, or undefined if none. */
export async function deleteRandomPod(
  core: Pick<CoreV1Api, 'listNamespacedPod' | 'deleteNamespacedPod'>,
  o: PodVictimOptions,
): Promise<string | undefined> {
  const pods = await core.listNamespacedPod({ namespace: o.namespace, labelSelector: o.selector });
  const names = pods.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => p.metadata?.name)
    .filter((name): name is string => name !== undefined && name !== o.spare);
  const victim = names[Math.floor((o.random ?? Math.random)() * names.length)];
  if (victim === undefined) return undefined;
  await core.deleteNamespacedPod({ name: victim, namespace: o.namespace });
  return victim;
}
