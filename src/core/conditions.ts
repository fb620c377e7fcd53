/**
 * Conditions (`when:`): CEL expressions (the Common Expression Language of Kubernetes and
 * Tekton: no loops, no recursion, every evaluation bounded) over a job's parameters and its
 * ancestors' statuses and outputs. Checked at submission against the variables the job can
 * see; evaluated when its dependencies have ended. Pure: no I/O.
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { ancestorsOf, dependencyMap } from './graph.ts';
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';
import { combinations, instanceName, MAX_MATRIX_INSTANCES } from './matrix.ts';
import type { JobStatus, Pipeline } from './types.ts';

/** What an ancestor shows a condition: `jobs.<name>.status`, `jobs.<name>.outputs.<key>`. */
export interface DependencyFacts {
  status: JobStatus;
  outputs: Record<string, string>;
}

/** What a job's condition needs once planned: the expression, the run's parameters, its deps. */
export interface ConditionPlan {
  expression: string;
  params: Record<string, string>;
  /** Its ancestors: the jobs it depends on, directly or through others (the ones it may read). */
  deps: string[];
}

/** Bounds of a parsed expression: it is checked on the API's request path. */
const LIMITS = { maxAstNodes: 1000, maxDepth: 50, maxListElements: 100, maxMapEntries: 100 };

/** The variables a job's condition may read: the parameters and its ancestors. */
function environment(params: Iterable<string>, deps: Iterable<string>): Environment {
  const paramFields = Object.fromEntries([...params].map((name) => [name, 'string']));
  const depFields = Object.fromEntries(
    [...deps].map((name) => [name, { status: 'string', outputs: 'map<string,string>' }]),
  );
  return new Environment({ limits: LIMITS })
    .registerVariable({ name: 'params', schema: paramFields })
    .registerVariable({ name: 'jobs', schema: depFields });
}

/** 1-based line and column of an offset in a text. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

/** The first line of a cel-js error message (the rest is a drawing of the source). */
function summary(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/**
 * The problem with a job's condition, if any: a syntax error, a name it cannot read (an
 * undeclared parameter, a job that is not an ancestor), a type error, or a result that is not a
 * boolean. `offset` is where in the expression.
 */
export function conditionProblem(
  expression: string,
  params: Iterable<string>,
  deps: Iterable<string>,
): { message: string; offset: number } | undefined {
  let result: ReturnType<Environment['check']>;
  try {
    result = environment(params, deps).check(expression);
  } catch (error) {
    const range = (error as { range?: { start: number } }).range;
    return { message: summary(error), offset: range?.start ?? 0 };
  }
  if (!result.valid) {
    const error = result.error as { range?: { start: number } } | undefined;
    return { message: summary(result.error), offset: error?.range?.start ?? 0 };
  }
  if (result.type !== 'bool' && result.type !== 'dyn') {
    return { message: `must be a boolean expression, not ${result.type}`, offset: 0 };
  }
  return undefined;
}

/** The instance names of each matrix job of a pipeline document whose matrix is well formed. */
function matrixInstances(jobs: Record<string, unknown>): Map<string, string[]> {
  const instances = new Map<string, string[]>();
  for (const [job, spec] of Object.entries(jobs)) {
    const matrix = isRecord(spec) ? own(spec, 'matrix') : undefined;
    if (!isRecord(matrix)) continue;
    const lists = Object.values(matrix);
    if (!lists.every((l) => Array.isArray(l) && l.every((v) => typeof v === 'string'))) continue;
    const combos = combinations(matrix as Record<string, string[]>);
    if (combos.length <= MAX_MATRIX_INSTANCES)
      instances.set(
        job,
        combos.map((values) => instanceName(job, values)),
      );
  }
  return instances;
}

/**
 * A condition reading a matrix job by its name: it runs as its instances, each read by its own
 * name (`jobs["test-linux-20"]`), so the name alone is refused with theirs.
 */
function matrixReadMessage(message: string, instances: Map<string, string[]>): string {
  const name = /^No such key: (.+)$/.exec(message)?.[1];
  const of = name === undefined ? undefined : instances.get(name);
  if (!of) return message;
  const some = of.slice(0, 3).map((i) => `jobs["${i}"]`);
  const more = of.length > 3 ? `, … (${of.length} in all)` : '';
  return `"${name}" is a matrix job, which runs as its instances: read one of them, ${some.join(', ')}${more}`;
}

/** The `when` of every job, checked (it may read only its ancestors; a matrix ancestor's instances). */
export function conditionIssues(value: unknown): Issue[] {
  if (!isRecord(value) || !isRecord(value.jobs)) return [];
  const params = isRecord(value.params) ? Object.keys(value.params) : [];
  const deps = dependencyMap(value.jobs);
  const instances = matrixInstances(value.jobs);
  const issues: Issue[] = [];
  for (const [job, spec] of Object.entries(value.jobs)) {
    if (!isRecord(spec)) continue;
    const when = own(spec, 'when');
    if (typeof when !== 'string' || when.length === 0 || when.length > 4096) continue;
    const readable = ancestorsOf(deps, job).flatMap((dep) => instances.get(dep) ?? [dep]);
    const problem = conditionProblem(when, params, readable);
    if (!problem) continue;
    const { line, column } = lineColumn(when, problem.offset);
    issues.push({
      path: ['jobs', job, 'when'],
      message: `${matrixReadMessage(problem.message, instances)} (line ${line}, column ${column} of the expression; it may read params.<name> and jobs.<ancestor>.status or .outputs.<key>)`,
      offset: problem.offset,
    });
  }
  return issues;
}

/** A job's condition as planned (the run's parameters and the job's dependencies). */
export function planCondition(
  pipeline: Pipeline,
  job: string,
  params: Record<string, string>,
): ConditionPlan | undefined {
  const spec = pipeline.jobs[job];
  if (spec?.when === undefined) return undefined;
  const deps = ancestorsOf(dependencyMap(pipeline.jobs), job);
  return { expression: spec.when, params, deps };
}

/** The texts of the parameters and dependency fields an expression reads, in order, once each. */
function readsOf(node: ASTNode, into: Set<string>, inAccess = false): Set<string> {
  const isAccess = node.op === '.' || node.op === '[]' || node.op === '.?' || node.op === '[?]';
  if (isAccess && !inAccess) {
    let root: ASTNode = node;
    while (root.op === '.' || root.op === '[]' || root.op === '.?' || root.op === '[?]') {
      root = root.args[0];
    }
    if (root.op === 'id' && (root.args === 'params' || root.args === 'jobs')) {
      into.add(node.input.slice(node.range.start, node.range.end));
    }
  }
  const args: unknown = node.args;
  const children = Array.isArray(args) ? args.flat() : [args];
  children.forEach((child, i) => {
    if (isRecord(child) && typeof child.op === 'string') {
      readsOf(child as unknown as ASTNode, into, isAccess && i === 0);
    }
  });
  return into;
}

export type ConditionResult =
  | { ok: true; value: true }
  | { ok: true; value: false; reason: string }
  | { ok: false; reason: string };

/**
 * Decides a condition over its dependencies' facts. False gives the reason a job is skipped:
 * the expression and the values it read (`condition params.env == "prod" is false (params.env
 * = "dev")`); an expression that cannot be evaluated (an output that is missing) gives why.
 */
export function evaluateCondition(
  plan: ConditionPlan,
  facts: Record<string, DependencyFacts>,
): ConditionResult {
  const env = environment(Object.keys(plan.params), plan.deps);
  const jobs = Object.fromEntries(
    plan.deps.map((dep) => [dep, facts[dep] ?? { status: 'PENDING', outputs: {} }]),
  );
  const context = { params: plan.params, jobs };
  let value: unknown;
  try {
    value = env.evaluate(plan.expression, context);
  } catch (error) {
    return {
      ok: false,
      reason: `condition ${plan.expression} could not be evaluated: ${summary(error)}`,
    };
  }
  if (value === true) return { ok: true, value: true };
  if (value !== false) {
    return {
      ok: false,
      reason: `condition ${plan.expression} gave ${String(value)}, not a boolean`,
    };
  }
  const values = [...readsOf(env.parse(plan.expression).ast, new Set())].map((text) => {
    try {
      return `${text} = ${JSON.stringify(env.evaluate(text, context))}`;
    } catch {
      return `${text} absent`;
    }
  });
  const read = values.length > 0 ? ` (${values.join(', ')})` : '';
  return { ok: true, value: false, reason: `condition ${plan.expression} is false${read}` };
}
