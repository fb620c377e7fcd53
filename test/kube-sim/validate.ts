/**
 * What the API server checks on a Job it receives: the official schema (kubernetes-models,
 * generated from the Kubernetes OpenAPI document), unknown fields (which that schema lets
 * through: the server drops them with a warning, or rejects them under fieldValidation=Strict),
 * and the semantic validation of names, labels and pod settings that no schema expresses
 * (k8s.io/kubernetes/pkg/apis/batch/validation, core/validation).
 */
import * as k8s from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { StatusCause } from './status.ts';

type Json = Record<string, unknown>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const QUANTITY =
  /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const DNS_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_KEY_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const ENV_NAME_MESSAGE =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const QUANTITY_MESSAGE = 'must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const DNS_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const invalid = (field: string, value: unknown, message: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${message}`,
});
const required = (field: string, message = ''): StatusCause => ({
  reason: 'FieldValueRequired',
  field,
  message: `Required value${message ? `: ${message}` : ''}`,
});

type Model = { getAttributeTypeMap?: () => { baseName: string; type: string }[] } | undefined;

/**
 * The value without the fields its API type does not have, and their paths: what the server's
 * decoder drops (and warns about, or refuses under fieldValidation=Strict). The field lists come
 * from the generated models of @kubernetes/client-node (the same OpenAPI document).
 */
export function pruneUnknown(
  value: unknown,
  type: string,
  path = '',
): { value: unknown; unknown: string[] } {
  if (value === null || typeof value !== 'object') return { value, unknown: [] };
  const array = /^Array<(.+)>$/.exec(type);
  if (array && Array.isArray(value)) {
    const parts = value.map((v, i) => pruneUnknown(v, array[1] ?? '', `${path}[${i}]`));
    return { value: parts.map((p) => p.value), unknown: parts.flatMap((p) => p.unknown) };
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  const attributes = map
    ? undefined
    : (k8s as unknown as Record<string, Model>)[type]?.getAttributeTypeMap?.();
  if (!map && !attributes) return { value, unknown: [] };
  const known = new Map(attributes?.map((a) => [a.baseName, a.type]));
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, v] of Object.entries(value as Json)) {
    const at = map ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const fieldType = map ? map[1] : known.get(key);
    if (fieldType === undefined) {
      unknown.push(at);
      continue;
    }
    const inner = pruneUnknown(v, fieldType, at);
    out[key] = inner.value;
    unknown.push(...inner.unknown);
  }
  return { value: out, unknown };
}

interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
}

/** The schema's errors, one per field (a oneOf reports each branch: keep the telling one). */
function schemaCauses(
  job: Json,
  Model: new (value: Json) => { validate(): void } = Job,
): StatusCause[] {
  try {
    new Model(job).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: SchemaError[] }).errors;
    if (!errors) throw err;
    const byPath = new Map<string, SchemaError>();
    for (const e of errors) {
      const kept = byPath.get(e.instancePath);
      if (!kept || kept.keyword === 'oneOf' || (e.keyword === 'format' && kept.keyword === 'type'))
        byPath.set(e.instancePath, e);
    }
    return [...byPath].map(([path, e]) => {
      const value: unknown = path
        .split('/')
        .slice(1)
        .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], job);
      return {
        reason: 'FieldValueInvalid',
        field: path
          .slice(1)
          .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
          .replace(/\//g, '.'),
        message: `Invalid value: ${JSON.stringify(value)}: ${e.message ?? 'does not match the schema'}`,
      };
    });
  }
}

function labelCauses(labels: Record<string, string> | undefined, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = key.slice(slash + 1);
    if (
      (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) ||
      name.length > 63 ||
      !LABEL_NAME.test(name)
    )
      causes.push(invalid(field, key, LABEL_KEY_MESSAGE));
    if (value.length > 63) causes.push(invalid(field, value, 'must be no more than 63 characters'));
    else if (!LABEL_VALUE.test(value)) causes.push(invalid(field, value, LABEL_VALUE_MESSAGE));
  }
  return causes;
}

function containerCauses(c: IContainer, at: string, volumes: Set<string>): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!DNS_LABEL.test(c.name) || c.name.length > 63)
    causes.push(invalid(`${at}.name`, c.name, DNS_LABEL_MESSAGE));
  if (!c.image) causes.push(required(`${at}.image`));
  for (const [j, env] of (c.env ?? []).entries())
    if (!ENV_NAME.test(env.name))
      causes.push(invalid(`${at}.env[${j}].name`, env.name, ENV_NAME_MESSAGE));
  for (const kind of ['requests', 'limits'] as const)
    for (const [resource, q] of Object.entries(c.resources?.[kind] ?? {}))
      if (!QUANTITY.test(String(q)))
        causes.push(invalid(`${at}.resources.${kind}[${resource}]`, q, QUANTITY_MESSAGE));
  for (const [j, m] of (c.volumeMounts ?? []).entries())
    if (!volumes.has(m.name))
      causes.push({
        reason: 'FieldValueNotFound',
        field: `${at}.volumeMounts[${j}].name`,
        message: `Not found: ${JSON.stringify(m.name)}`,
      });
  return causes;
}

function podCauses(spec: IPodSpec | undefined): StatusCause[] {
  const base = 'spec.template.spec';
  if (!spec) return [required(base)];
  const causes: StatusCause[] = [];
  if (spec.restartPolicy === undefined)
    causes.push(required(`${base}.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  else if (spec.restartPolicy !== 'Never' && spec.restartPolicy !== 'OnFailure')
    causes.push({
      reason: 'FieldValueNotSupported',
      field: `${base}.restartPolicy`,
      message: `Unsupported value: ${JSON.stringify(spec.restartPolicy)}: supported values: "OnFailure", "Never"`,
    });
  if (spec.containers.length === 0) causes.push(required(`${base}.containers`));
  const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
  const names = new Set<string>();
  // Init containers and containers share one namespace of names.
  const all = [
    ...(spec.initContainers ?? []).map((c, i) => [c, `${base}.initContainers[${i}]`] as const),
    ...spec.containers.map((c, i) => [c, `${base}.containers[${i}]`] as const),
  ];
  for (const [c, at] of all) {
    if (names.has(c.name))
      causes.push({
        reason: 'FieldValueDuplicate',
        field: `${at}.name`,
        message: `Duplicate value: ${JSON.stringify(c.name)}`,
      });
    names.add(c.name);
    causes.push(...containerCauses(c, at, volumes));
  }
  const account = spec.serviceAccountName;
  if (account !== undefined && !DNS_SUBDOMAIN.test(account))
    causes.push(invalid(`${base}.serviceAccountName`, account, DNS_SUBDOMAIN_MESSAGE));
  causes.push(...labelCauses(spec.nodeSelector, `${base}.nodeSelector`));
  for (const [i, t] of (spec.tolerations ?? []).entries())
    if (t.operator === 'Exists' && t.value)
      causes.push(
        invalid(
          `${base}.tolerations[${i}].operator`,
          t.value,
          "value must be empty when `operator` is 'Exists'",
        ),
      );
  return causes;
}

/** The 422 causes of a Job the API server would refuse: schema first, then semantics. */
export function jobCauses(body: unknown): StatusCause[] {
  const schema = schemaCauses(body as Json);
  if (schema.length > 0) return schema;
  const job = body as IJob;
  const causes: StatusCause[] = [];
  const name = job.metadata?.name;
  if (!name && !job.metadata?.generateName)
    causes.push(required('metadata.name', 'name or generateName is required'));
  if (name !== undefined) {
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
      causes.push(invalid('metadata.name', name, DNS_SUBDOMAIN_MESSAGE));
    // The Job controller labels its pods with the Job's name (batch.kubernetes.io/job-name),
    // so a Job name must also be a valid label value.
    else if (name.length > 63)
      causes.push(invalid('spec.template.labels', name, 'must be no more than 63 characters'));
  }
  causes.push(...labelCauses(job.metadata?.labels, 'metadata.labels'));
  const spec = job.spec;
  if (!spec) return [...causes, required('spec')];
  for (const field of ['backoffLimit', 'ttlSecondsAfterFinished'] as const)
    if ((spec[field] ?? 0) < 0)
      causes.push(invalid(`spec.${field}`, spec[field], 'must be greater than or equal to 0'));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0)
    causes.push(
      invalid(
        'spec.activeDeadlineSeconds',
        spec.activeDeadlineSeconds,
        'must be greater than or equal to 1',
      ),
    );
  causes.push(...labelCauses(spec.template.metadata?.labels, 'spec.template.metadata.labels'));
  causes.push(...podCauses(spec.template.spec));
  return causes;
}

const CLAIM_ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

/**
 * The 422 causes of a PersistentVolumeClaim the API server would refuse (schema, then
 * core/validation's ValidatePersistentVolumeClaimSpec for what chainr sets).
 */
export function claimCauses(body: unknown): StatusCause[] {
  const schema = schemaCauses(body as Json, PersistentVolumeClaim);
  if (schema.length > 0) return schema;
  const claim = body as IPersistentVolumeClaim;
  const causes: StatusCause[] = [];
  const name = claim.metadata?.name;
  if (!name) causes.push(required('metadata.name', 'name or generateName is required'));
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    causes.push(invalid('metadata.name', name, DNS_SUBDOMAIN_MESSAGE));
  const modes = claim.spec?.accessModes ?? [];
  if (modes.length === 0)
    causes.push(required('spec.accessModes', 'at least 1 access mode is required'));
  for (const mode of modes)
    if (!CLAIM_ACCESS_MODES.includes(mode))
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.accessModes',
        message: `Unsupported value: ${JSON.stringify(mode)}: supported values: ${CLAIM_ACCESS_MODES.map((m) => JSON.stringify(m)).join(', ')}`,
      });
  if (modes.includes('ReadWriteOncePod') && modes.length > 1)
    causes.push(
      invalid('spec.accessModes', modes, 'may not use ReadWriteOncePod with other access modes'),
    );
  const storage = claim.spec?.resources?.requests?.storage;
  if (storage === undefined) causes.push(required('spec.resources[storage]'));
  else if (!QUANTITY.test(String(storage)))
    causes.push(invalid('spec.resources[storage]', storage, QUANTITY_MESSAGE));
  return causes;
}
