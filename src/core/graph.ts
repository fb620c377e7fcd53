/**
 * Graph checks of a pipeline: job names, unknown, self and duplicate dependencies, cycles (its
 * size is checked before, in check.ts).
 * They read whatever part of the value is well-formed, so that they report alongside the schema
 * errors; the schema reports the rest. Linear in the size of the pipeline, and iterative.
 */
import type { Issue, Segment } from './issues.ts';
import { formatPath, isRecord, own } from './issues.ts';

export const DEFAULT_MAX_JOBS = 1000;

const DNS_1123_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_MESSAGE =
  "must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";

/** Suggestions are looked for only for the first unknown dependencies (they cost more). */
const MAX_SUGGESTIONS = 20;

export function isDns1123Label(name: string): boolean {
  return DNS_1123_LABEL.test(name);
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      }
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The closest job name to a mistyped one, if one is close enough to be meant. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  // One edit in 3 characters, at least 1 from 3 characters on, at most 3: "frist" → "first".
  const limit = name.length < 3 ? 0 : Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue;
    const d = editDistance(name.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** The job names a dependsOn value lists, plain or in either-of groups (well-formed parts only). */
export function dependencyNames(dependsOn: unknown): string[] {
  if (!Array.isArray(dependsOn)) return [];
  return dependsOn.flatMap((dep: unknown) => {
    if (!isRecord(dep)) return [];
    const anyOf = own(dep, 'anyOf');
    const members: unknown[] = Array.isArray(anyOf) ? anyOf : [];
    return [own(dep, 'job'), ...members].filter((name): name is string => typeof name === 'string');
  });
}

/** The dependency maps built while one document is checked (`sharingDependencyMaps`). */
let built: WeakMap<object, Map<string, string[]>> | undefined;

/** The jobs of a pipeline document each job depends on, as written. Not to be modified. */
export function dependencyMap(jobs: Record<string, unknown>): Map<string, string[]> {
  const known = built?.get(jobs);
  if (known) return known;
  const deps = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(jobs)) {
    deps.set(name, dependencyNames(isRecord(spec) ? own(spec, 'dependsOn') : undefined));
  }
  built?.set(jobs, deps);
  return deps;
}

/**
 * Runs the checks of one document with each of its dependency maps built once: four checks ask
 * for the same one (a third of the validation of 10,000 jobs was building it again). The
 * document does not change while it is checked.
 */
export function sharingDependencyMaps<T>(check: () => T): T {
  const outer = built;
  built = new WeakMap();
  try {
    return check();
  } finally {
    built = outer;
  }
}

/** The jobs `job` depends on directly or through others (cycles tolerated), nearest first. */
export function ancestorsOf(deps: Map<string, string[]>, job: string): string[] {
  const seen = new Set<string>();
  const queue = [job];
  for (let head = 0; head < queue.length; head++) {
    for (const dep of deps.get(queue[head] as string) ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      queue.push(dep);
    }
  }
  seen.delete(job); // on a cycle through it (refused by the graph checks)
  return [...seen];
}

interface Edge {
  to: number;
  /** Where the edge is written: `jobs.<job>.dependsOn[i].job` or `...dependsOn[i].anyOf[k]`. */
  at: Segment[];
}

/** Strongly connected components with more than one node (Tarjan's algorithm, iterative). */
function cyclicComponents(adjacency: Edge[][]): number[][] {
  const n = adjacency.length;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let start = 0; start < n; start++) {
    if (order[start] !== -1) continue;
    const frames: [node: number, next: number][] = [];
    const enter = (v: number): void => {
      order[v] = low[v] = counter++;
      stack.push(v);
      onStack[v] = 1;
      frames.push([v, 0]);
    };
    enter(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as [number, number];
      const v = frame[0];
      const edges = adjacency[v] ?? [];
      if (frame[1] < edges.length) {
        const w = (edges[frame[1]++] as Edge).to;
        if (order[w] === -1) enter(w);
        else if (onStack[w]) low[v] = Math.min(low[v] ?? 0, order[w] ?? 0);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] ?? 0, low[v] ?? 0);
      if (low[v] !== order[v]) continue;
      const component: number[] = [];
      for (let w = -1; w !== v;) {
        w = stack.pop() as number;
        onStack[w] = 0;
        component.push(w);
      }
      if (component.length > 1) components.push(component);
    }
  }
  return components;
}

/** The shortest cycle through `start` inside its component, as edges (breadth-first search). */
function shortestCycle(start: number, members: Set<number>, adjacency: Edge[][]): Edge[] {
  const via = new Map<number, { from: number; edge: Edge }>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head] as number;
    for (const edge of adjacency[v] ?? []) {
      if (!members.has(edge.to) || (edge.to !== start && via.has(edge.to))) continue;
      if (edge.to === start) {
        const path = [edge];
        for (let w = v; w !== start;) {
          const step = via.get(w) as { from: number; edge: Edge };
          path.unshift(step.edge);
          w = step.from;
        }
        return path;
      }
      via.set(edge.to, { from: v, edge });
      queue.push(edge.to);
    }
  }
  return []; // unreachable for a strongly connected component
}

/** Graph issues of a pipeline-shaped value (parts of other shapes are left to the schema). */
export function graphIssues(value: unknown): Issue[] {
  const jobs = isRecord(value) ? own(value, 'jobs') : undefined;
  if (!isRecord(jobs)) return [];
  const issues: Issue[] = [];
  const names = Object.keys(jobs);
  const indexOf = new Map(names.map((name, i) => [name, i]));
  const adjacency: Edge[][] = names.map(() => []);
  let suggestions = 0;
  names.forEach((name, from) => {
    if (!isDns1123Label(name)) {
      issues.push({
        path: ['jobs', name],
        message: `job name ${JSON.stringify(name)} ${DNS_MESSAGE}`,
        atKey: true,
      });
    }
    const spec = own(jobs, name);
    const dependsOn = isRecord(spec) ? own(spec, 'dependsOn') : undefined;
    if (!Array.isArray(dependsOn)) return;
    const seen = new Map<string, string>();
    const edgeTo = (target: unknown, at: Segment[]) => {
      if (typeof target !== 'string' || target.length > 253) return; // the schema reports it
      const path = ['jobs', name, 'dependsOn', ...at];
      const quoted = JSON.stringify(target);
      const to = indexOf.get(target);
      const earlier = seen.get(target);
      if (earlier !== undefined) {
        issues.push({
          path,
          message: `duplicate dependency on ${quoted} (already listed at ${earlier})`,
        });
      } else if (target === name) {
        issues.push({ path, message: `job ${quoted} depends on itself` });
      } else if (to === undefined) {
        const close = suggestions++ < MAX_SUGGESTIONS ? closestName(target, names) : undefined;
        const hint = close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`;
        issues.push({ path, message: `unknown job ${quoted}${hint}` });
      } else {
        adjacency[from]?.push({ to, at: path });
      }
      // A plain dependency is named by its index (`dependsOn[1]`), a group member by its place.
      const where = at[1] === 'job' ? at.slice(0, 1) : at;
      if (earlier === undefined) seen.set(target, formatPath(['dependsOn', ...where]));
    };
    dependsOn.forEach((dep: unknown, index) => {
      if (!isRecord(dep)) return; // the schema reports it
      const anyOf = own(dep, 'anyOf');
      const hasJob = Object.hasOwn(dep, 'job');
      if (anyOf === undefined && !hasJob) {
        issues.push({
          path: ['jobs', name, 'dependsOn', index],
          message: 'needs "job" (a job to wait for) or "anyOf" (an either-of group)',
        });
      } else if (anyOf !== undefined && (hasJob || Object.hasOwn(dep, 'conditions'))) {
        issues.push({
          path: ['jobs', name, 'dependsOn', index, 'anyOf'],
          message:
            'an either-of group stands alone: "anyOf" takes no "job" or "conditions" beside it (its rule is: at least one SUCCESSFUL)',
          atKey: true,
        });
      }
      edgeTo(own(dep, 'job'), [index, 'job']);
      if (Array.isArray(anyOf)) anyOf.forEach((member, k) => edgeTo(member, [index, 'anyOf', k]));
    });
  });
  for (const component of cyclicComponents(adjacency)) {
    const start = component.reduce((a, b) => Math.min(a, b));
    const cycle = shortestCycle(start, new Set(component), adjacency);
    const first = cycle[0];
    if (!first) continue;
    const route = [start, ...cycle.map((e) => e.to)].map((i) => names[i]).join(' → ');
    issues.push({ path: first.at, message: `cycle ${route}` });
  }
  return issues;
}
