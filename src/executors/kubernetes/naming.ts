/**
 * Names and labels of the Kubernetes Job of one attempt. Pure.
 *
 * The name is a function of the attempt's identity `<run uid>/<job>/<attempt>` only, so that any
 * worker computes the same name and a second create answers 409 AlreadyExists instead of starting
 * a second Job. It is `chainr-<job>-<attempt>-<hash>`: the job name (truncated) for people reading
 * `kubectl get jobs`, and 64 bits of the SHA-256 of the identity, so that two attempts never share
 * a name in practice. At most 63 characters, because the Job controller copies the name into a
 * label of its pods, and a valid DNS-1123 label (hence also a valid Job name).
 */
import { createHash } from 'node:crypto';

export const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 16;

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  run: 'chainr.io/run',
  job: 'chainr.io/job',
  attempt: 'chainr.io/attempt',
  /** Optional: tells apart the Jobs of several chainr deployments sharing a namespace. */
  instance: 'chainr.io/instance',
} as const;

export const MANAGED_BY = 'chainr';

export interface AttemptIdentity {
  uid: string;
  job: string;
  attempt: number;
}

export function identityOf(a: AttemptIdentity): string {
  return `${a.uid}/${a.job}/${a.attempt}`;
}

/** Lowercase letters, digits and single '-' inside: the readable part of a name or label. */
function dnsSafe(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

export function kubernetesJobName(a: AttemptIdentity): string {
  const hash = createHash('sha256').update(identityOf(a)).digest('hex').slice(0, HASH_LENGTH);
  const attempt = String(a.attempt);
  // 'chainr-' + job + '-' + attempt + '-' + hash
  const room = MAX_NAME_LENGTH - 'chainr-'.length - attempt.length - HASH_LENGTH - 2;
  const job = dnsSafe(a.job).slice(0, Math.max(0, room)).replace(/-+$/, '') || 'job';
  return `chainr-${job}-${attempt}-${hash}`.slice(-MAX_NAME_LENGTH).replace(/^[^a-z0-9]+/, '');
}

/** A label value (at most 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends). */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** The labels of an attempt's Job and pod: what re-attach, logs and garbage collection select on. */
export function attemptLabels(a: AttemptIdentity, instance?: string): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.run]: labelValue(a.uid),
    [LABELS.job]: labelValue(a.job),
    [LABELS.attempt]: String(a.attempt),
    ...(instance !== undefined && { [LABELS.instance]: labelValue(instance) }),
  };
}

/** `k=v,k=v`: the label selector of exactly these labels. */
export function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
