/**
 * core/v1 Secrets: create, get and delete, as an operator stores what jobs read through
 * `secretKeyRef` (the kubelet resolves them when it starts a container: kubelet.ts). `stringData`
 * is merged into `data` (base64) on write and never stored, as the API server does.
 */
import type { ApiState } from './api-jobs.ts';
import type { Ctx } from './http-util.ts';
import { readObject, sendJson, sendStatus } from './http-util.ts';
import { statuses } from './status.ts';
import { newMetadata, type SimSecret } from './store.ts';
import { pruneUnknown } from './validate.ts';

const SECRETS = { group: '', resource: 'secrets' };
const KIND = { kind: 'Secret', apiVersion: 'v1' } as const;

export async function createSecret(ctx: Ctx, api: ApiState, namespace: string): Promise<void> {
  const body = await readObject<SimSecret>(ctx, 'v1', 'Secret');
  if (!body) return;
  const { metadata, data, stringData, type } = pruneUnknown(body, 'V1Secret').value as SimSecret;
  const name = metadata?.name ?? '';
  if (api.store.get('secrets', namespace, name))
    return sendStatus(ctx, statuses.alreadyExists(SECRETS, name));
  const merged = { ...data };
  for (const [k, v] of Object.entries(stringData ?? {}))
    merged[k] = Buffer.from(v).toString('base64');
  const secret: SimSecret = {
    ...KIND,
    metadata: newMetadata(metadata, namespace),
    type: type ?? 'Opaque',
    data: merged,
  };
  sendJson(ctx, 201, api.store.create('secrets', secret));
}

export function getSecret(ctx: Ctx, api: ApiState, namespace: string, name: string): void {
  const secret = api.store.get('secrets', namespace, name);
  if (!secret) return sendStatus(ctx, statuses.notFound(SECRETS, name));
  sendJson(ctx, 200, secret);
}

export function deleteSecret(ctx: Ctx, api: ApiState, namespace: string, name: string): void {
  const secret = api.store.remove('secrets', namespace, name);
  if (!secret) return sendStatus(ctx, statuses.notFound(SECRETS, name));
  sendJson(ctx, 200, secret);
}

/** A Secret's `data` (base64 values), `{}` for one without; undefined when there is no Secret. */
export const secretData = (secret: SimSecret | undefined) =>
  secret ? (secret.data ?? {}) : undefined;

/** Reads a Secret's `data` by name in the pod's namespace (undefined: no such Secret). */
export type ReadSecret = (name: string) => Promise<Record<string, string> | undefined>;

/**
 * The value of each `secretKeyRef` variable of a container, as the kubelet reads them when it
 * creates the container, or its reason for not creating it (CreateContainerConfigError) while a
 * Secret or key is missing. Shared by the simulator's kubelet and the node agent.
 */
export async function resolveSecretRefs(
  namespace: string,
  env: readonly { name: string; value?: string; valueFrom?: { secretKeyRef?: SecretKeyRef } }[],
  read: ReadSecret,
): Promise<{ env: ResolvedVar[] } | { problem: string }> {
  const resolved: ResolvedVar[] = [];
  for (const e of env) {
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) {
      resolved.push({ name: e.name, value: e.value ?? '' });
      continue;
    }
    const secret = await read(ref.name ?? '');
    const data = secret?.[ref.key];
    if (data === undefined) {
      if (ref.optional) continue;
      return {
        problem: secret
          ? `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name ?? ''}`
          : `secret "${ref.name ?? ''}" not found`,
      };
    }
    // Kept with its valueFrom: the kubelet expands $(VAR) references in values, not in these.
    resolved.push({
      name: e.name,
      value: Buffer.from(data, 'base64').toString(),
      valueFrom: e.valueFrom,
    });
  }
  return { env: resolved };
}

interface ResolvedVar {
  name: string;
  value: string;
  valueFrom?: { secretKeyRef?: SecretKeyRef };
}

interface SecretKeyRef {
  name?: string;
  key: string;
  optional?: boolean;
}
