/**
 * The conformance cases of examples/conformance.json (shared with the end-to-end tests of every
 * executor), inlined: each pipeline with the run and job statuses the seed's semantics give it,
 * every job's outcome decided by its own command (`exit 0`, `true`, `echo` succeed; `exit N`
 * with N ≠ 0 and `false` fail).
 */
import type { JobStatus, Pipeline, RunStatus } from './types.ts';

export interface ConformanceCase {
  name: string;
  pipeline: Pipeline;
  expect: { status: RunStatus; jobs: Record<string, JobStatus> };
}

export const conformanceCases: ConformanceCase[] = [
  {
    name: 'seed example',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        first: { image: 'busybox', run: 'exit 0' },
        second: { image: 'busybox', run: 'exit 0' },
        success: { image: 'busybox', run: 'exit 0', dependsOn: [{ job: 'first' }] },
        error: {
          image: 'busybox',
          run: 'exit 0',
          dependsOn: [{ job: 'first', conditions: { failure: true } }],
        },
      },
    },
    expect: {
      status: 'SUCCESSFUL',
      jobs: { first: 'SUCCESSFUL', second: 'SUCCESSFUL', success: 'SUCCESSFUL', error: 'SKIPPED' },
    },
  },
  {
    name: 'seed example, first fails',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        first: { image: 'busybox', run: 'exit 1' },
        second: { image: 'busybox', run: 'exit 0' },
        success: { image: 'busybox', run: 'exit 0', dependsOn: [{ job: 'first' }] },
        error: {
          image: 'busybox',
          run: 'exit 0',
          dependsOn: [{ job: 'first', conditions: { failure: true } }],
        },
      },
    },
    expect: {
      status: 'FAILED',
      jobs: { first: 'FAILED', second: 'SUCCESSFUL', success: 'SKIPPED', error: 'SUCCESSFUL' },
    },
  },
  {
    name: 'single job',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        only: { image: 'busybox', run: 'echo hi' },
      },
    },
    expect: { status: 'SUCCESSFUL', jobs: { only: 'SUCCESSFUL' } },
  },
  {
    name: 'chain breaks in the middle',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        a: { image: 'busybox', run: 'true' },
        b: { image: 'busybox', run: 'false', dependsOn: [{ job: 'a' }] },
        c: { image: 'busybox', run: 'true', dependsOn: [{ job: 'b' }] },
      },
    },
    expect: { status: 'FAILED', jobs: { a: 'SUCCESSFUL', b: 'FAILED', c: 'SKIPPED' } },
  },
  {
    name: 'fallback then continue',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        a: { image: 'busybox', run: 'exit 2' },
        b: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'a', conditions: { failure: true } }],
        },
        c: { image: 'busybox', run: 'true', dependsOn: [{ job: 'b' }] },
      },
    },
    expect: { status: 'FAILED', jobs: { a: 'FAILED', b: 'SUCCESSFUL', c: 'SUCCESSFUL' } },
  },
  {
    name: 'a skipped dependency skips even a failure-conditioned job',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        a: { image: 'busybox', run: 'true' },
        b: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'a', conditions: { failure: true } }],
        },
        c: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'b', conditions: { failure: true } }],
        },
      },
    },
    expect: { status: 'SUCCESSFUL', jobs: { a: 'SUCCESSFUL', b: 'SKIPPED', c: 'SKIPPED' } },
  },
  {
    name: 'mixed conditions on two dependencies',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        a: { image: 'busybox', run: 'true' },
        b: { image: 'busybox', run: 'false' },
        c: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'a' }, { job: 'b', conditions: { failure: true } }],
        },
        d: { image: 'busybox', run: 'true', dependsOn: [{ job: 'a' }, { job: 'b' }] },
      },
    },
    expect: {
      status: 'FAILED',
      jobs: { a: 'SUCCESSFUL', b: 'FAILED', c: 'SUCCESSFUL', d: 'SKIPPED' },
    },
  },
  {
    name: 'diamond',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        top: { image: 'busybox', run: 'true' },
        left: { image: 'busybox', run: 'true', dependsOn: [{ job: 'top' }] },
        right: { image: 'busybox', run: 'true', dependsOn: [{ job: 'top' }] },
        bottom: { image: 'busybox', run: 'true', dependsOn: [{ job: 'left' }, { job: 'right' }] },
      },
    },
    expect: {
      status: 'SUCCESSFUL',
      jobs: { top: 'SUCCESSFUL', left: 'SUCCESSFUL', right: 'SUCCESSFUL', bottom: 'SUCCESSFUL' },
    },
  },
  {
    name: 'fan-in with one failed root',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        r1: { image: 'busybox', run: 'true' },
        r2: { image: 'busybox', run: 'true' },
        r3: { image: 'busybox', run: 'exit 7' },
        r4: { image: 'busybox', run: 'true' },
        join: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'r1' }, { job: 'r2' }, { job: 'r3' }, { job: 'r4' }],
        },
      },
    },
    expect: {
      status: 'FAILED',
      jobs: { r1: 'SUCCESSFUL', r2: 'SUCCESSFUL', r3: 'FAILED', r4: 'SUCCESSFUL', join: 'SKIPPED' },
    },
  },
  {
    name: 'unrelated failure fails the run',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        a: { image: 'busybox', run: 'false' },
        b: { image: 'busybox', run: 'true' },
      },
    },
    expect: { status: 'FAILED', jobs: { a: 'FAILED', b: 'SUCCESSFUL' } },
  },
  {
    name: 'fallback of a fallback',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        a: { image: 'busybox', run: 'false' },
        b: {
          image: 'busybox',
          run: 'false',
          dependsOn: [{ job: 'a', conditions: { failure: true } }],
        },
        c: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'b', conditions: { failure: true } }],
        },
      },
    },
    expect: { status: 'FAILED', jobs: { a: 'FAILED', b: 'FAILED', c: 'SUCCESSFUL' } },
  },
  {
    name: 'failure-conditioned job skipped when its dependency succeeds, others go on',
    pipeline: {
      kind: 'Pipeline',
      jobs: {
        load: { image: 'busybox', run: 'true' },
        restore: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'load', conditions: { failure: true } }],
        },
        report: { image: 'busybox', run: 'true', dependsOn: [{ job: 'load' }] },
      },
    },
    expect: {
      status: 'SUCCESSFUL',
      jobs: { load: 'SUCCESSFUL', restore: 'SKIPPED', report: 'SUCCESSFUL' },
    },
  },
];
