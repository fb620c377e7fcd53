/**
 * The DAG shapes of the workloads, in the two forms the systems take: a chainr pipeline (JSON, as
 * submitted to the API) and the baseline's adjacency (dependents of each job, and how many
 * dependencies each job waits for).
 */

export interface Shape {
  name: string;
  jobs: string[];
  /** Dependencies of each job (absent for roots). */
  deps: Record<string, string[]>;
  /** Dependents of each job (absent for leaves). */
  next: Record<string, string[]>;
  roots: string[];
  leaves: string[];
}

function shape(name: string, deps: Record<string, string[]>, jobs: string[]): Shape {
  const next: Record<string, string[]> = {};
  for (const job of jobs) for (const d of deps[job] ?? []) (next[d] ??= []).push(job);
  return {
    name,
    jobs,
    deps,
    next,
    roots: jobs.filter((j) => !deps[j]?.length),
    leaves: jobs.filter((j) => !next[j]?.length),
  };
}

const pad = (i: number, width: number) => String(i).padStart(width, '0');

/** 2 roots → 6 middle jobs each depending on both roots → 2 leaves each depending on all 6. */
export function diamond(): Shape {
  const roots = ['a1', 'a2'];
  const middle = Array.from({ length: 6 }, (_, i) => `m${i + 1}`);
  const leaves = ['z1', 'z2'];
  const deps: Record<string, string[]> = {};
  for (const m of middle) deps[m] = roots;
  for (const z of leaves) deps[z] = middle;
  return shape('diamond', deps, [...roots, ...middle, ...leaves]);
}

/** n jobs in a line. */
export function chain(n: number): Shape {
  const jobs = Array.from({ length: n }, (_, i) => `j${pad(i, 4)}`);
  const deps: Record<string, string[]> = {};
  for (let i = 1; i < n; i++) deps[jobs[i] as string] = [jobs[i - 1] as string];
  return shape(`chain-${n}`, deps, jobs);
}

/** 1 → n → 1. */
export function fanIn(n: number): Shape {
  const middle = Array.from({ length: n }, (_, i) => `m${pad(i, 4)}`);
  const deps: Record<string, string[]> = { final: middle };
  for (const m of middle) deps[m] = ['root'];
  return shape(`fan-in-${n}`, deps, ['root', ...middle, 'final']);
}

/** The chainr pipeline of a shape: every job on the noop executor. */
export function toPipeline(s: Shape): Record<string, unknown> {
  const jobs: Record<string, unknown> = {};
  for (const job of s.jobs) {
    const deps = s.deps[job];
    jobs[job] = {
      image: 'none',
      run: 'true',
      executor: 'noop',
      ...(deps?.length && { dependsOn: deps.map((d) => ({ job: d })) }),
    };
  }
  return { kind: 'Pipeline', metadata: { name: `bench-${s.name}` }, jobs };
}

const named = new Map<string, Shape>();

/** A shape from its name ('diamond', 'chain-200', 'fan-in-1000'), built once. */
export function shapeNamed(name: string): Shape {
  let s = named.get(name);
  if (!s) {
    const n = Number(/-(\d+)$/.exec(name)?.[1]);
    if (name === 'diamond') s = diamond();
    else if (name.startsWith('chain-')) s = chain(n);
    else if (name.startsWith('fan-in-')) s = fanIn(n);
    else throw new Error(`unknown shape ${name}`);
    named.set(name, s);
  }
  return s;
}
