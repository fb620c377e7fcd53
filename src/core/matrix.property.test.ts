/**
 * Matrix jobs driven through the DAG rule (dag.ts) in random orders, with a cancel at a random
 * point applied as cancel-run.lua applies it: whatever the matrix's size, maxParallel, failFast,
 * the instances' outcomes and the moment of the cancel, every job ends, no more than maxParallel
 * instances run at once, and none starts after a failFast failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, settle, type CompiledPipeline } from './dag.ts';
import { expandMatrices } from './matrix.ts';
import type { Outcome } from './simulate.ts';
import { isTerminalJob, type JobStatus, type Pipeline } from './types.ts';

interface Case {
  /** The values of each matrix key (1 or 2 keys). */
  sizes: number[];
  maxParallel: number | undefined;
  failFast: boolean;
  /** Whether the matrix job depends on a `prepare` job (or is a root). */
  rooted: boolean;
  outcomes: Outcome[];
  choices: number[];
  /** After how many steps the run is canceled, if it is. */
  cancelAfter: number | undefined;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 2 }),
  maxParallel: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  failFast: fc.boolean(),
  rooted: fc.boolean(),
  outcomes: fc.array(fc.constantFrom<Outcome>('SUCCESSFUL', 'SUCCESSFUL', 'FAILED'), {
    minLength: 36,
    maxLength: 36,
  }),
  choices: fc.array(fc.nat(), { maxLength: 80 }),
  cancelAfter: fc.option(fc.nat({ max: 60 }), { nil: undefined }),
});

function pipelineOf(c: Case): Pipeline {
  const matrix = Object.fromEntries(
    c.sizes.map((n, k) => [`k${k}`, Array.from({ length: n }, (_, i) => `v${i}`)]),
  );
  return expandMatrices({
    kind: 'Pipeline',
    jobs: {
      ...(c.rooted && { prepare: { image: 'busybox', run: 'true' } }),
      shard: {
        image: 'busybox',
        run: 'true',
        matrix,
        ...(c.maxParallel !== undefined && { maxParallel: c.maxParallel }),
        ...(c.failFast && { failFast: true }),
        ...(c.rooted && { dependsOn: [{ job: 'prepare' }] }),
      },
      report: { image: 'busybox', run: 'true', dependsOn: [{ job: 'shard' }] },
      cleanup: {
        image: 'busybox',
        run: 'true',
        dependsOn: [{ job: 'shard', conditions: { always: true } }],
      },
    },
  });
}

/** A cleanup job, as cancel-run.lua tells one: by the mark compile gives it. */
function isCleanup(compiled: CompiledPipeline, job: string): boolean {
  return compiled.jobs[job]?.cleanup === true;
}

type Event = { type: 'start' | 'end'; job: string; status?: JobStatus } | { type: 'cancel' };

/** The run driven to its end: start a ready job or end a running one, as `choices` pick. */
function drive(c: Case) {
  const pipeline = pipelineOf(c);
  const compiled = compile(pipeline);
  const instances = Object.keys(pipeline.jobs).filter((j) => pipeline.jobs[j]?.matrixOf);
  let statuses: Record<string, JobStatus> = {};
  for (const job of Object.keys(compiled.jobs)) statuses[job] = 'PENDING';
  const events: Event[] = [];
  let canceled = false;
  let k = 0;
  for (let step = 0; step < 1000; step++) {
    const settled = settle(compiled, statuses);
    statuses = settled.statuses;
    if (!canceled && step === c.cancelAfter) {
      canceled = true;
      events.push({ type: 'cancel' });
      for (const [job, status] of Object.entries(statuses)) {
        if (isTerminalJob(status) || isCleanup(compiled, job)) continue;
        statuses[job] = 'CANCELED';
        if (status === 'RUNNING') events.push({ type: 'end', job, status: 'CANCELED' });
      }
      continue;
    }
    const running = Object.keys(statuses).filter((j) => statuses[j] === 'RUNNING');
    const actions = [...settled.ready.map((job) => ({ start: true, job }))];
    actions.push(...running.map((job) => ({ start: false, job })));
    if (actions.length === 0) break;
    const pick = c.choices.length === 0 ? 0 : (c.choices[k++ % c.choices.length] ?? 0);
    const action = actions[pick % actions.length];
    if (!action) break;
    if (action.start) {
      statuses = { ...statuses, [action.job]: 'RUNNING' };
      events.push({ type: 'start', job: action.job });
    } else {
      const i = instances.indexOf(action.job);
      const status = i >= 0 ? (c.outcomes[i] ?? 'SUCCESSFUL') : 'SUCCESSFUL';
      statuses = { ...statuses, [action.job]: status };
      events.push({ type: 'end', job: action.job, status });
    }
  }
  return { instances, statuses, events };
}

describe('matrix instances under random orders, outcomes and cancels', () => {
  it('all end, at most maxParallel run at once, none starts after a failFast failure', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { instances, statuses, events } = drive(c);
        expect(instances.length).toBe(c.sizes.reduce((a, b) => a * b, 1));
        for (const [job, status] of Object.entries(statuses))
          expect(isTerminalJob(status), `${job} ${status}`).toBe(true);
        const isInstance = new Set(instances);
        let running = 0;
        let failed = false;
        let canceled = false;
        for (const e of events) {
          if (e.type === 'cancel') canceled = true;
          if (e.type === 'cancel' || !isInstance.has(e.job)) continue;
          if (e.type === 'start') {
            // An instance whose only dependency is its maxParallel lane is no cleanup job.
            expect(canceled, `${e.job} started after the cancel`).toBe(false);
            if (c.failFast) expect(failed, `${e.job} started after a failure`).toBe(false);
            running++;
            expect(running).toBeLessThanOrEqual(c.maxParallel ?? Infinity);
          } else {
            running--;
            if (e.status === 'FAILED') failed = true;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
