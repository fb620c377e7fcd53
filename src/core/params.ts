/**
 * Parameters: declared by a pipeline, given at submission. They reach a job's script only as
 * environment variables (`CHAINR_PARAM_<NAME>`): text pasted into a shell script is data or code
 * depending on where it stands (quotes, comments, `$( … )`, heredocs, …), and only a full shell
 * parser could tell, so `${{ params.x }}` is substituted in `image` and `env` values (no shell
 * involved) and refused in `run`. Pure: no I/O.
 */
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';
import {
  isSecretValue,
  type JobCommand,
  type JobSpec,
  type Pipeline,
  type SecretRef,
} from './types.ts';

/** `${{ params.name }}`, with optional spaces inside the braces. */
const PARAM_REF = /\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The environment variable a parameter reaches jobs as: `CHAINR_PARAM_<NAME>`. */
export function paramEnvName(name: string): string {
  return `CHAINR_PARAM_${name.toUpperCase()}`;
}

/** Parameters referenced by a text, in order of appearance. */
function referencedParams(text: string): string[] {
  return [...text.matchAll(PARAM_REF)].map((m) => m[1] as string);
}

/** References to parameters the pipeline does not declare, and any in `run` (checked with the graph). */
export function paramIssues(value: unknown): Issue[] {
  if (!isRecord(value) || !isRecord(value.jobs)) return [];
  const declared = isRecord(value.params) ? value.params : {};
  const issues: Issue[] = [];
  const check = (text: unknown, path: (string | number)[]) => {
    if (typeof text !== 'string') return;
    for (const name of referencedParams(text)) {
      if (!Object.hasOwn(declared, name)) {
        issues.push({ path, message: `unknown parameter "${name}": declare it under params` });
      }
    }
  };
  const byVariable = new Map<string, string>();
  for (const name of Object.keys(declared)) {
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') {
      issues.push({
        path: ['params', name],
        message: `"${name}" is reserved: choose another name`,
      });
    }
    const other = byVariable.get(paramEnvName(name));
    if (other !== undefined) {
      issues.push({
        path: ['params', name],
        message: `"${name}" and "${other}" would both be ${paramEnvName(name)}: names must differ in more than case`,
      });
    }
    byVariable.set(paramEnvName(name), name);
  }
  for (const [job, spec] of Object.entries(value.jobs)) {
    if (!isRecord(spec)) continue;
    const run = own(spec, 'run');
    if (typeof run === 'string') {
      for (const name of new Set(referencedParams(run))) {
        issues.push({
          path: ['jobs', job, 'run'],
          message: `\${{ params.${name} }} is not substituted in run: parameters reach scripts as environment variables, write "$${paramEnvName(name)}"`,
        });
      }
    }
    check(own(spec, 'image'), ['jobs', job, 'image']);
    for (const field of ['command', 'args']) {
      const items = own(spec, field);
      if (Array.isArray(items)) items.forEach((item, i) => check(item, ['jobs', job, field, i]));
    }
    const env = own(spec, 'env');
    if (isRecord(env)) for (const [k, v] of Object.entries(env)) check(v, ['jobs', job, 'env', k]);
  }
  return issues;
}

export type ParamResolution =
  | { ok: true; values: Record<string, string> }
  | { ok: false; errors: { path: string; message: string }[] };

/** The value of every declared parameter: given, or its default; errors name each problem. */
export function resolveParams(pipeline: Pipeline, given: unknown): ParamResolution {
  const declared = pipeline.params ?? {};
  const errors: { path: string; message: string }[] = [];
  if (given !== undefined && !isRecord(given)) {
    return { ok: false, errors: [{ path: 'params', message: 'must be an object of strings' }] };
  }
  const supplied = given ?? {};
  for (const [name, value] of Object.entries(supplied)) {
    if (!Object.hasOwn(declared, name)) {
      const known = Object.keys(declared);
      errors.push({
        path: `params.${name}`,
        message: `unknown parameter${known.length ? ` (the pipeline declares ${known.join(', ')})` : ' (the pipeline declares none)'}`,
      });
    } else if (typeof value !== 'string') {
      errors.push({ path: `params.${name}`, message: 'must be a string' });
    }
  }
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const value = own(supplied, name);
    if (typeof value === 'string') values[name] = value;
    else if (spec.default !== undefined) values[name] = spec.default;
    else if (value === undefined) {
      errors.push({ path: `params.${name}`, message: 'is required (it has no default)' });
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, values };
}

/** What a job runs once parameters are applied. */
export type ResolvedJob = {
  image: string;
  env: Record<string, string>;
  /** Variables whose value is read from a secret when the job starts, never written here. */
  secrets?: Record<string, SecretRef>;
} & JobCommand;

/**
 * Applies parameter values to a job: each becomes the variable `CHAINR_PARAM_<NAME>`, and
 * references in `image`, `env` values, `command` and `args` are replaced by the value itself
 * (`run` holds none: validation refuses them there, since a shell would read the value as code;
 * the items of `command` and `args` reach the program as they are).
 */
export function applyParams(spec: JobSpec, values: Record<string, string>): ResolvedJob {
  const literal = (text: string) =>
    text.replace(PARAM_REF, (_m, name: string) => values[name] ?? '');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) env[paramEnvName(name)] = value;
  const secrets: Record<string, SecretRef> = {};
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (isSecretValue(value)) secrets[name] = value.secret;
    else env[name] = literal(value);
  }
  const command: JobCommand =
    spec.command === undefined
      ? { run: spec.run ?? '' }
      : { argv: [...spec.command, ...(spec.args ?? [])].map(literal) };
  const hasSecrets = Object.keys(secrets).length > 0;
  return { image: literal(spec.image), env, ...(hasSecrets && { secrets }), ...command };
}
