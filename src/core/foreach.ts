/**
 * Dynamic fan-out (`forEach: ${{ jobs.<producer>.outputs.<key> }}`): a job that runs once per
 * item of a JSON array its producer, one of its dependencies, wrote as an output. The instances
 * are created by the transition that decides the job once its dependencies have ended
 * (src/store/lua/includes.lua `expand_for_each`), named `<job>-0`, `<job>-1`..., each seeing its
 * item as `CHAINR_ITEM` and as `${{ item }}` in `image`, `env` values, `command` and `args`. The
 * job itself stands for the group: RUNNING while its instances run, then FAILED if one of them
 * FAILED, else SUCCESSFUL, and its dependents wait for it. Pure: no I/O.
 */
import { dependencyNames } from './graph.ts';
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';
import type { JobCommand } from './types.ts';

/** The most items one forEach job fans out over (also in includes.lua: MAX_FOREACH_ITEMS). */
export const MAX_FOREACH_ITEMS = 1000;

/** The one form `forEach` takes. */
const FOREACH_REF = /^\$\{\{\s*jobs\.([a-z0-9-]+)\.outputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** `${{ item }}`, with optional spaces inside the braces. */
const ITEM_REF = /\$\{\{\s*item\s*\}\}/g;

/** The variable an instance gets its item as. */
export const ITEM_ENV = 'CHAINR_ITEM';

/** The producer and output key a `forEach` reads, when it has the one form allowed. */
export function forEachSource(text: string): { job: string; key: string } | undefined {
  const m = FOREACH_REF.exec(text);
  return m ? { job: m[1] as string, key: m[2] as string } : undefined;
}

/** The name of a forEach job's instance i (from 0). */
export function itemInstanceName(job: string, i: number): string {
  return `${job}-${i}`;
}

/**
 * The problems of the forEach jobs of a pipeline document: a value not of the form
 * `${{ jobs.<name>.outputs.<key> }}`, a producer that is not a plain dependency of the job, a
 * matrix beside it, a job whose name an instance could take, and `${{ item }}` in a job
 * without forEach.
 */
export function forEachIssues(value: unknown): Issue[] {
  if (!isRecord(value) || !isRecord(value.jobs)) return [];
  const issues: Issue[] = [];
  const names = Object.keys(value.jobs);
  for (const [job, spec] of Object.entries(value.jobs)) {
    if (!isRecord(spec)) continue;
    const forEach = own(spec, 'forEach');
    if (forEach === undefined) {
      for (const [path, text] of itemTexts(spec))
        if (typeof text === 'string' && text.search(ITEM_REF) >= 0)
          issues.push({
            path: ['jobs', job, ...path],
            message: '${{ item }} is the item of a forEach job: this job has no forEach',
          });
      continue;
    }
    if (typeof forEach !== 'string') continue; // the schema says so
    const path = ['jobs', job, 'forEach'];
    const source = forEachSource(forEach);
    if (!source) {
      issues.push({
        path,
        message:
          'must be ${{ jobs.<name>.outputs.<key> }}: an output of one of its dependencies holding a JSON array',
      });
      continue;
    }
    const plain = (
      Array.isArray(own(spec, 'dependsOn')) ? (own(spec, 'dependsOn') as unknown[]) : []
    )
      .filter((d) => isRecord(d) && own(d, 'anyOf') === undefined)
      .flatMap((d) => dependencyNames([d]));
    if (!plain.includes(source.job)) {
      issues.push({
        path,
        message: `reads job "${source.job}", which is not one of its dependencies: add { job: ${source.job} } to its dependsOn (an either-of member does not count)`,
      });
    }
    if (own(spec, 'matrix') !== undefined) {
      issues.push({ path, message: 'a job has a matrix or a forEach, not both' });
    }
    const clash = names.find((other) => new RegExp(`^${job}-[0-9]+$`).test(other));
    if (clash !== undefined) {
      issues.push({
        path,
        message: `its instances are named ${job}-0, ${job}-1...; job "${clash}" would clash: rename it`,
      });
    }
  }
  return issues;
}

/** The texts of a job where `${{ item }}` may appear, with their paths. */
function itemTexts(spec: Record<string, unknown>): [(string | number)[], unknown][] {
  const out: [(string | number)[], unknown][] = [[['image'], own(spec, 'image')]];
  const env = own(spec, 'env');
  if (isRecord(env)) for (const [k, v] of Object.entries(env)) out.push([['env', k], v]);
  for (const field of ['command', 'args'] as const) {
    const list = own(spec, field);
    if (Array.isArray(list)) list.forEach((item, i) => out.push([[field, i], item]));
  }
  return out;
}

/**
 * A forEach instance's plan with its item applied: `CHAINR_ITEM`, and `${{ item }}` replaced in
 * its image, env values and argv. A plan without an item is returned as it is.
 */
export function withItem<
  T extends { image: string; env: Record<string, string>; item?: string } & JobCommand,
>(plan: T): T {
  const item = plan.item;
  if (item === undefined) return plan;
  const literal = (text: string) => text.replace(ITEM_REF, () => item);
  const env: Record<string, string> = { [ITEM_ENV]: item };
  for (const [name, value] of Object.entries(plan.env)) env[name] = literal(value);
  const image = literal(plan.image);
  return plan.argv === undefined
    ? { ...plan, image, env }
    : { ...plan, image, env, argv: plan.argv.map(literal) };
}
