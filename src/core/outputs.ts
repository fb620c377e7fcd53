/** Job outputs: `key=value` lines a job writes to $CHAINR_OUTPUTS, passed to its descendants. */
import { ancestorsOf, dependencyMap } from './graph.ts';
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';
import type { JobCommand } from './types.ts';

export const MAX_OUTPUTS_BYTES = 4096;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const mangle = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * The variable a dependent receives an output as: `CHAINR_<JOB>_<KEY>`, both upper-cased with
 * every character other than A-Z and 0-9 replaced by `_` (job `build-app`, key `image_tag` →
 * `CHAINR_BUILD_APP_IMAGE_TAG`).
 */
export function outputEnvName(job: string, key: string): string {
  return `CHAINR_${mangle(job)}_${mangle(key)}`;
}

export type OutputsResult =
  { ok: true; outputs: Record<string, string> } | { ok: false; error: string };

/** Parses an outputs file. Blank lines are ignored; the value is everything after the first `=`. */
export function parseOutputs(text: string): OutputsResult {
  const size = new TextEncoder().encode(text).length;
  if (size > MAX_OUTPUTS_BYTES) {
    return {
      ok: false,
      error: `outputs are ${size} bytes, more than the limit of ${MAX_OUTPUTS_BYTES}`,
    };
  }
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (eq < 0 || !KEY.test(key)) {
      return {
        ok: false,
        error: `outputs line ${i + 1} is not key=value with a key of letters, digits and '_': ${JSON.stringify(line.slice(0, 80))}`,
      };
    }
    outputs[key] = line.slice(eq + 1);
  }
  return { ok: true, outputs };
}

/** The environment a job gets from its dependencies' outputs. */
export function outputsEnv(byJob: Record<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [job, outputs] of Object.entries(byJob)) {
    for (const [key, value] of Object.entries(outputs)) env[outputEnvName(job, key)] = value;
  }
  return env;
}

/** `${{ jobs.<name>.outputs.<key> }}`, with optional spaces inside the braces. */
const OUTPUT_REF = /\$\{\{\s*jobs\.([^.\s}]+)\.outputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The output references of a text, in order of appearance. */
function outputRefs(text: string): { job: string; key: string }[] {
  return [...text.matchAll(OUTPUT_REF)].map((m) => ({ job: m[1] as string, key: m[2] as string }));
}

/**
 * References to outputs of jobs that are not ancestors of the referring job, and any in `run`
 * (where, as for parameters, the variable is to be used: pasted text could become code).
 */
export function outputRefIssues(value: unknown): Issue[] {
  if (!isRecord(value) || !isRecord(value.jobs)) return [];
  const deps = dependencyMap(value.jobs);
  const issues: Issue[] = [];
  for (const [job, spec] of Object.entries(value.jobs)) {
    if (!isRecord(spec)) continue;
    const run = own(spec, 'run');
    if (typeof run === 'string') {
      for (const ref of outputRefs(run)) {
        issues.push({
          path: ['jobs', job, 'run'],
          message: `\${{ jobs.${ref.job}.outputs.${ref.key} }} is not substituted in run: outputs reach scripts as environment variables, write "$${outputEnvName(ref.job, ref.key)}"`,
        });
      }
    }
    let ancestors: Set<string> | undefined; // found only for a job with references
    const check = (text: unknown, path: (string | number)[]) => {
      if (typeof text !== 'string') return;
      for (const ref of outputRefs(text)) {
        ancestors ??= new Set(ancestorsOf(deps, job));
        if (ancestors.has(ref.job)) continue;
        const what = Object.hasOwn(value.jobs as object, ref.job)
          ? `job "${ref.job}" is not an ancestor of "${job}"`
          : `unknown job "${ref.job}"`;
        issues.push({
          path,
          message: `${what}: a job reads the outputs of the jobs it depends on, directly or through others`,
        });
      }
    };
    check(own(spec, 'image'), ['jobs', job, 'image']);
    const env = own(spec, 'env');
    if (isRecord(env)) for (const [k, v] of Object.entries(env)) check(v, ['jobs', job, 'env', k]);
    for (const field of ['command', 'args']) {
      const items = own(spec, field);
      if (Array.isArray(items)) items.forEach((item, i) => check(item, ['jobs', job, field, i]));
    }
  }
  return issues;
}

/**
 * Replaces each `${{ jobs.<name>.outputs.<key> }}` by that output of an ancestor; an output the
 * job did not write is the empty string.
 */
export function applyOutputRefs(
  text: string,
  byJob: Record<string, Record<string, string>>,
): string {
  return text.replace(OUTPUT_REF, (_m, job: string, key: string) => {
    const outputs = Object.hasOwn(byJob, job) ? byJob[job] : undefined;
    return (outputs && Object.hasOwn(outputs, key) ? outputs[key] : undefined) ?? '';
  });
}

/**
 * A job as it starts, with its ancestors' outputs: each becomes `CHAINR_<JOB>_<KEY>` (the job's
 * own env wins), and references in `image`, `env` values and a program's arguments are replaced by
 * the value (no shell reads those; `run` holds none).
 */
export function withAncestorOutputs<
  T extends { image: string; env: Record<string, string> } & JobCommand,
>(job: T, byJob: Record<string, Record<string, string>>): T {
  const env = outputsEnv(byJob);
  for (const [name, value] of Object.entries(job.env)) env[name] = applyOutputRefs(value, byJob);
  const image = applyOutputRefs(job.image, byJob);
  return job.argv === undefined
    ? { ...job, image, env }
    : { ...job, image, env, argv: job.argv.map((item) => applyOutputRefs(item, byJob)) };
}
