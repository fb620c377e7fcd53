import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Outcome, Simulation } from './simulate.ts';
import { simulate } from './simulate.ts';
import type { JobStatus, Pipeline } from './types.ts';
import { isTerminalJob } from './types.ts';
import { validatePipeline } from './validate.ts';

interface Dep {
  dep: number;
  failure: boolean;
}

interface Dag {
  /** deps[j]: the dependencies of job j, all on lower indexes (so the graph is acyclic). */
  deps: Dep[][];
  outcomes: Outcome[];
  /** The order in which the jobs appear in the pipeline object. */
  order: number[];
}

const name = (i: number): string => `job-${i}`;

const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
  { arbitrary: fc.constant('SUCCESSFUL' as const), weight: 5 },
  { arbitrary: fc.constant('FAILED' as const), weight: 3 },
  { arbitrary: fc.constant('CANCELED' as const), weight: 1 },
);

const dagArb: fc.Arbitrary<Dag> = fc.integer({ min: 1, max: 40 }).chain((n) => {
  const indexes = Array.from({ length: n }, (_, i) => i);
  const depsOf = (j: number): fc.Arbitrary<Dep[]> =>
    j === 0
      ? fc.constant([])
      : fc.uniqueArray(
          fc.record({ dep: fc.integer({ min: 0, max: j - 1 }), failure: fc.boolean() }),
          {
            selector: (d) => d.dep,
            maxLength: Math.min(j, 4),
          },
        );
  return fc.record({
    deps: fc.tuple(...indexes.map(depsOf)),
    outcomes: fc.array(outcomeArb, { minLength: n, maxLength: n }),
    order: fc.shuffledSubarray(indexes, { minLength: n, maxLength: n }),
  });
});

function toPipeline(deps: Dep[][], order: number[]): Pipeline {
  const jobs: Pipeline['jobs'] = {};
  for (const j of order) {
    jobs[name(j)] = {
      image: 'busybox',
      run: 'true',
      dependsOn: (deps[j] ?? []).map((d) =>
        d.failure ? { job: name(d.dep), conditions: { failure: true } } : { job: name(d.dep) },
      ),
    };
  }
  return { kind: 'Pipeline', jobs };
}

const accepts = (d: Dep, status: JobStatus | undefined): boolean =>
  status === (d.failure ? 'FAILED' : 'SUCCESSFUL');

/** The reference semantics, written independently of dag.ts: jobs in index (topological) order. */
function oracle(dag: Dag): JobStatus[] {
  const statuses: JobStatus[] = [];
  dag.deps.forEach((deps, j) => {
    const runs = deps.every((d) => accepts(d, statuses[d.dep]));
    statuses.push(runs ? (dag.outcomes[j] as Outcome) : 'SKIPPED');
  });
  return statuses;
}

function run(dag: Dag, choices: number[]): Simulation {
  let k = 0;
  const choose = (n: number): number =>
    choices.length === 0 ? 0 : (choices[k++ % choices.length] as number) % n;
  const outcome = (job: string): Outcome => dag.outcomes[Number(job.slice(4))] as Outcome;
  return simulate(toPipeline(dag.deps, dag.order), outcome, choose);
}

const choicesArb = fc.array(fc.nat(), { maxLength: 120 });

describe('DAG evaluation properties (random DAGs, outcomes and execution orders)', () => {
  it('ends with every job terminal, as the reference semantics say, whatever the order', () => {
    fc.assert(
      fc.property(dagArb, choicesArb, choicesArb, (dag, choices, otherChoices) => {
        const expected = oracle(dag);
        const result = run(dag, choices);
        const final = dag.deps.map((_, j) => result.statuses[name(j)]);
        expect(final.every((s) => s !== undefined && isTerminalJob(s))).toBe(true);
        expect(final).toEqual(expected);
        // confluence, checked directly too: another order gives the same statuses
        expect(run(dag, otherChoices).statuses).toEqual(result.statuses);
      }),
      { numRuns: 300 },
    );
  });

  it('starts a job once, only after all its dependencies ended as it requires, and iff they did', () => {
    fc.assert(
      fc.property(dagArb, choicesArb, (dag, choices) => {
        const result = run(dag, choices);
        const starts = result.events.filter((e) => e.type === 'start');
        expect(new Set(starts.map((e) => e.job)).size).toBe(starts.length);
        for (const start of starts) {
          const j = Number(start.job.slice(4));
          for (const d of dag.deps[j] ?? []) expect(accepts(d, start.deps[name(d.dep)])).toBe(true);
        }
        const started = new Set(starts.map((e) => e.job));
        dag.deps.forEach((deps, j) => {
          const allAccepted = deps.every((d) => accepts(d, result.statuses[name(d.dep)]));
          expect(started.has(name(j))).toBe(allAccepted);
          const status = result.statuses[name(j)];
          expect(status).toBe(allAccepted ? dag.outcomes[j] : 'SKIPPED');
          // skip propagation: a skipped (or canceled) dependency always skips
          if (
            deps.some((d) => ['SKIPPED', 'CANCELED'].includes(result.statuses[name(d.dep)] ?? ''))
          ) {
            expect(status).toBe('SKIPPED');
          }
        });
        // every finish follows its start
        const seen = new Set<string>();
        for (const e of result.events) {
          if (e.type === 'start') seen.add(e.job);
          if (e.type === 'finish') expect(seen.has(e.job)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the run status by the rule: PENDING, then RUNNING, then FAILED iff a job FAILED', () => {
    fc.assert(
      fc.property(dagArb, choicesArb, (dag, choices) => {
        const result = run(dag, choices);
        const failed = Object.values(result.statuses).includes('FAILED');
        expect(result.status).toBe(failed ? 'FAILED' : 'SUCCESSFUL');
        expect(result.history[0]).toBe('PENDING');
        expect(result.history.slice(1, -1).every((s) => s === 'RUNNING')).toBe(true);
        expect(result.history[result.history.length - 1]).toBe(result.status);
      }),
      { numRuns: 200 },
    );
  });
});

describe('validation properties', () => {
  it('accepts every generated DAG', () => {
    fc.assert(
      fc.property(dagArb, (dag) => {
        expect(validatePipeline(toPipeline(dag.deps, dag.order))).toMatchObject({ ok: true });
      }),
    );
  });

  it('rejects every graph with a cycle, naming a real cycle at a real edge', () => {
    const cyclicArb = dagArb
      .filter((dag) => dag.deps.length >= 2)
      .chain((dag) =>
        fc.record({
          dag: fc.constant(dag),
          members: fc.uniqueArray(fc.integer({ min: 0, max: dag.deps.length - 1 }), {
            minLength: 2,
            maxLength: 6,
          }),
        }),
      );
    fc.assert(
      fc.property(cyclicArb, ({ dag, members }) => {
        const deps = dag.deps.map((d) => [...d]);
        const ring = [...members].sort((a, b) => a - b);
        // each member depends on the previous one, and the first on the last: a cycle
        ring.forEach((m, i) => {
          const target = ring[(i + ring.length - 1) % ring.length] as number;
          if (!deps[m]?.some((d) => d.dep === target))
            deps[m]?.push({ dep: target, failure: false });
        });
        const pipeline = toPipeline(deps, dag.order);
        const result = validatePipeline(pipeline);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.errors.length).toBeGreaterThan(0);
        for (const error of result.errors) {
          const match = /^jobs\.(job-\d+)\.dependsOn\[(\d+)\]\.job$/.exec(error.path);
          expect(error.message).toMatch(/^cycle /);
          const route = error.message.slice('cycle '.length).split(' → ');
          expect(route[0]).toBe(match?.[1]);
          expect(route[route.length - 1]).toBe(route[0]);
          expect(
            (pipeline.jobs[match?.[1] ?? '']?.dependsOn?.[Number(match?.[2])] as { job?: string })
              ?.job,
          ).toBe(route[1]);
          for (let i = 0; i + 1 < route.length; i++) {
            const from = pipeline.jobs[route[i] ?? ''];
            expect(from?.dependsOn?.some((d) => 'job' in d && d.job === route[i + 1])).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, on any value', () => {
    const pipelineLike = fc.record({
      kind: fc.oneof(fc.constant('Pipeline'), fc.anything()),
      jobs: fc.dictionary(
        fc.oneof(fc.string(), fc.constantFrom('a', 'b', 'constructor', '__proto__')),
        fc.oneof(
          fc.anything(),
          fc.record({
            image: fc.oneof(fc.string(), fc.anything()),
            run: fc.string(),
            dependsOn: fc.oneof(
              fc.anything(),
              fc.array(
                fc.record({
                  job: fc.constantFrom('a', 'b', 'c', 'constructor'),
                  conditions: fc.anything(),
                }),
              ),
            ),
          }),
        ),
      ),
    });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), pipelineLike), (value) => {
        const result = validatePipeline(value);
        if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
        else expect(result.pipeline).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });
});
