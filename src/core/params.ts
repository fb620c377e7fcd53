/**
 * Parameters: declared by a pipeline, given at submission, and substituted into jobs without
 * ever becoming shell code. Pure: no I/O.
 */
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';
import type { JobSpec, Pipeline } from './types.ts';

/** `${{ params.name }}`, with optional spaces inside the braces. */
const PARAM_REF = /\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The same, matching only at `lastIndex` (a scanner's position); its own object, so that scanning
 * never disturbs the global one's state. */
const AT_REF = new RegExp(PARAM_REF.source, 'y');

/** The environment variable a parameter reaches jobs as: `CHAINR_PARAM_<NAME>`. */
export function paramEnvName(name: string): string {
  return `CHAINR_PARAM_${name.toUpperCase()}`;
}

/** Parameters referenced by a text, in order of appearance. */
function referencedParams(text: string): string[] {
  return [...text.matchAll(PARAM_REF)].map((m) => m[1] as string);
}

/** References to parameters the pipeline does not declare (checked with the graph). */
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
    check(own(spec, 'run'), ['jobs', job, 'run']);
    check(own(spec, 'image'), ['jobs', job, 'image']);
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
export interface ResolvedJob {
  image: string;
  run: string;
  env: Record<string, string>;
}

/**
 * Replaces each parameter reference in a shell script by an expansion of its variable that is
 * quoted for where it stands: `"${V}"` outside quotes, `${V}` inside double quotes, and
 * `'"${V}"'` inside single quotes (closing and reopening them). The shell then expands the
 * variable as one word of data: a value is never parsed as code, split or globbed.
 */
function referenceInScript(run: string): string {
  let out = '';
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < run.length; i++) {
    AT_REF.lastIndex = i;
    const ref = run.startsWith('${{', i) ? AT_REF.exec(run) : null;
    if (ref) {
      const variable = `\${${paramEnvName(ref[1] as string)}}`;
      out += quote === '"' ? variable : quote === "'" ? `'"${variable}"'` : `"${variable}"`;
      i += ref[0].length - 1;
      continue;
    }
    const c = run[i] as string;
    out += c;
    if (c === '\\' && quote !== "'" && i + 1 < run.length) out += run[++i] as string;
    else if (quote === '' && (c === "'" || c === '"')) quote = c;
    else if (c === quote) quote = '';
  }
  return out;
}

/**
 * Applies parameter values to a job: in `run`, references become quoted expansions of
 * `CHAINR_PARAM_<NAME>` (see referenceInScript); in `image` and `env` values (no shell involved)
 * the value itself is inserted.
 */
export function applyParams(spec: JobSpec, values: Record<string, string>): ResolvedJob {
  const literal = (text: string) =>
    text.replace(PARAM_REF, (_m, name: string) => values[name] ?? '');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) env[paramEnvName(name)] = value;
  for (const [name, value] of Object.entries(spec.env ?? {})) env[name] = literal(value);
  return {
    image: literal(spec.image),
    run: referenceInScript(spec.run),
    env,
  };
}
