/**
 * Matrix jobs: a job with `matrix: {key: [values...]}` stands for one instance per combination
 * of values, expanded at submission. Each instance is a job of its own, named after its values
 * (`build` with os linux and node 20 → `build-linux-20`), sees them as `CHAINR_MATRIX_<KEY>` and
 * as `${{ matrix.<key> }}` in `image`, `env` values, `command` and `args`; a dependency on the matrix job is a
 * dependency on every instance. `maxParallel: n` lets instance i start only once instance i-n
 * has ended, so at most n run at once; with `failFast`, a FAILED instance skips the instances
 * that have not started (src/core/dag.ts). Each instance names its job (`matrixOf`). Pure: no I/O.
 */
import { isDns1123Label } from './graph.ts';
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';
import {
  isSecretValue,
  type Dependency,
  type EnvValue,
  type JobSpec,
  type Pipeline,
} from './types.ts';

/** The most instances one matrix job may expand into. */
export const MAX_MATRIX_INSTANCES = 256;

/** `${{ matrix.key }}`, with optional spaces inside the braces. */
const MATRIX_REF = /\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The variable an instance gets each of its values as: `CHAINR_MATRIX_<KEY>`. */
export function matrixEnvName(key: string): string {
  return `CHAINR_MATRIX_${key.toUpperCase()}`;
}

/** Every combination of the values, in order: the first key varies slowest. */
export function combinations(matrix: Record<string, string[]>): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    out = out.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value })));
  }
  return out;
}

/** An instance's name: the job's, then each value, lower-cased, other characters as '-'. */
export function instanceName(job: string, values: Record<string, string>): string {
  const parts = Object.values(values).map((v) =>
    v
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, ''),
  );
  return [job, ...parts].join('-');
}

function instanceCount(matrix: Record<string, unknown>): number {
  return Object.values(matrix).reduce<number>(
    (n, values) => n * (Array.isArray(values) ? values.length : 1),
    1,
  );
}

/**
 * The problems of the matrix jobs of a pipeline document: too many instances (for one job, or
 * for the pipeline once expanded), instance names that are not DNS-1123 labels or that clash
 * with another job, and `${{ matrix.<key> }}` of a key the job does not have.
 */
export function matrixIssues(value: unknown, maxJobs: number): Issue[] {
  if (!isRecord(value) || !isRecord(value.jobs)) return [];
  const issues: Issue[] = [];
  const names = new Map(Object.keys(value.jobs).map((name) => [name, `job "${name}"`]));
  let total = 0;
  for (const [job, spec] of Object.entries(value.jobs)) {
    const matrix = isRecord(spec) ? own(spec, 'matrix') : undefined;
    const keys = isRecord(matrix) ? Object.keys(matrix) : [];
    if (isRecord(spec)) {
      const check = (text: unknown, path: (string | number)[]) => {
        if (typeof text !== 'string') return;
        for (const m of text.matchAll(MATRIX_REF)) {
          if (!keys.includes(m[1] as string))
            issues.push({
              path,
              message: `unknown matrix value "${m[1]}" (the job's matrix has ${keys.length > 0 ? keys.join(', ') : 'none'})`,
            });
        }
      };
      check(own(spec, 'image'), ['jobs', job, 'image']);
      for (const field of ['command', 'args'] as const) {
        const list = own(spec, field);
        if (Array.isArray(list)) list.forEach((item, i) => check(item, ['jobs', job, field, i]));
      }
      const env = own(spec, 'env');
      if (isRecord(env))
        for (const [k, v] of Object.entries(env)) check(v, ['jobs', job, 'env', k]);
    }
    if (!isRecord(matrix)) {
      for (const field of ['maxParallel', 'failFast'])
        if (isRecord(spec) && Object.hasOwn(spec, field))
          issues.push({
            path: ['jobs', job, field],
            message: 'applies to a matrix job: add a matrix, or remove it',
            atKey: true,
          });
      total += 1;
      continue;
    }
    const count = instanceCount(matrix);
    total += count;
    if (count > MAX_MATRIX_INSTANCES) {
      issues.push({
        path: ['jobs', job, 'matrix'],
        message: `${count} combinations exceed the limit of ${MAX_MATRIX_INSTANCES} instances of one job`,
      });
      continue;
    }
    const lists = Object.values(matrix);
    if (!lists.every((l) => Array.isArray(l) && l.every((v) => typeof v === 'string'))) continue;
    for (const combo of combinations(matrix as Record<string, string[]>)) {
      const name = instanceName(job, combo);
      const path = ['jobs', job, 'matrix'];
      const label = Object.entries(combo)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ');
      if (!isDns1123Label(name)) {
        issues.push({
          path,
          message: `the instance for ${label} would be named "${name}", which is not a DNS-1123 label (at most 63 lowercase letters, digits and '-'): use shorter values or a shorter job name`,
        });
      } else if (names.has(name)) {
        issues.push({
          path,
          message: `the instance for ${label} would be named "${name}", like ${names.get(name)}: rename one, or use values that differ once lower-cased`,
        });
      } else names.set(name, `the instance of "${job}" for ${label}`);
    }
  }
  // Beyond the limit before expansion, the graph checks say so already.
  if (total > maxJobs && Object.keys(value.jobs).length <= maxJobs) {
    issues.push({
      path: ['jobs'],
      message: `${total} jobs once the matrices are expanded exceed the limit of ${maxJobs}`,
    });
  }
  return issues;
}

/** A dependency on a matrix job, made a dependency on each of its instances. */
function expandDependency(dep: Dependency, instances: Map<string, string[]>): Dependency[] {
  if ('anyOf' in dep) {
    return [{ anyOf: dep.anyOf.flatMap((job) => instances.get(job) ?? [job]) }];
  }
  const of = instances.get(dep.job);
  return of ? of.map((job) => ({ ...dep, job })) : [dep];
}

/** The pipeline with every matrix job replaced by its instances, in the job's place. */
export function expandMatrices(pipeline: Pipeline): Pipeline {
  const specs = Object.entries(pipeline.jobs);
  if (!specs.some(([, spec]) => spec.matrix)) return pipeline;
  const instances = new Map<string, string[]>();
  const combos = new Map<string, Record<string, string>[]>();
  for (const [job, spec] of specs) {
    if (!spec.matrix) continue;
    const all = combinations(spec.matrix);
    combos.set(job, all);
    instances.set(
      job,
      all.map((values) => instanceName(job, values)),
    );
  }
  const jobs: Record<string, JobSpec> = {};
  for (const [job, spec] of specs) {
    const { matrix, maxParallel, ...rest } = spec;
    const dependsOn = rest.dependsOn?.flatMap((d) => expandDependency(d, instances));
    const base = { ...rest, ...(dependsOn && { dependsOn }) };
    if (!matrix) {
      jobs[job] = base;
      continue;
    }
    const names = instances.get(job) ?? [];
    (combos.get(job) ?? []).forEach((values, i) => {
      const literal = (text: string) =>
        text.replace(MATRIX_REF, (_m, key: string) => values[key] ?? '');
      const env: Record<string, EnvValue> = {};
      for (const [key, value] of Object.entries(values)) env[matrixEnvName(key)] = value;
      for (const [name, value] of Object.entries(rest.env ?? {}))
        env[name] = isSecretValue(value) ? value : literal(value);
      // At most maxParallel at once: each waits for the one maxParallel places before it.
      const lane =
        maxParallel !== undefined && i >= maxParallel ? names[i - maxParallel] : undefined;
      const after: Dependency[] = lane ? [{ job: lane, conditions: { always: true } }] : [];
      const deps = [...(dependsOn ?? []), ...after];
      jobs[names[i] as string] = {
        ...base,
        matrixOf: job,
        image: literal(rest.image),
        ...(rest.command && { command: rest.command.map(literal) }),
        ...(rest.args && { args: rest.args.map(literal) }),
        env,
        ...(deps.length > 0 && { dependsOn: deps }),
      };
    });
  }
  return { ...pipeline, jobs };
}
