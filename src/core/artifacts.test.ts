import { describe, expect, it } from 'vitest';
import { parsePipeline } from './parse.ts';
import { planRun } from './plan.ts';

const errorsOf = (text: string) => {
  const result = parsePipeline(text, 'yaml');
  return result.ok ? [] : result.errors;
};

const pipeline = (jobs: string) => `kind: Pipeline\njobs:\n${jobs}`;

describe('artifacts in a pipeline', () => {
  const valid = pipeline(`  extract:
    image: busybox
    run: mkdir out && echo a > out/data.csv
    artifacts:
      - { name: data, path: out/data.csv }
      - { name: all, path: out }
  load:
    image: busybox
    dependsOn: [{ job: extract }]
    run: wc -l "$CHAINR_ARTIFACTS/extract/data"
  report:
    image: busybox
    dependsOn: [{ job: load }]
    run: ls "$CHAINR_ARTIFACTS/extract/all"
    inputs:
      artifacts: [{ from: extract, name: all }, { from: extract, name: data }]
`);

  it('accepts declared artifacts and inputs from any ancestor, and plans them', () => {
    const result = parsePipeline(valid, 'yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const plan = planRun(result.pipeline, {}, { defaultExecutor: 'local' });
    expect(plan.jobs.extract?.artifacts).toEqual([
      { name: 'data', path: 'out/data.csv' },
      { name: 'all', path: 'out' },
    ]);
    expect(plan.jobs.report?.inputs).toEqual([
      { from: 'extract', name: 'all' },
      { from: 'extract', name: 'data' },
    ]);
    expect(plan.jobs.load?.inputs).toBeUndefined();
  });

  it('refuses an input from a job that is not an ancestor, with line and column', () => {
    const errors = errorsOf(
      pipeline(`  a:
    image: busybox
    run: echo > f
    artifacts: [{ name: f, path: f }]
  b:
    image: busybox
    run: cat "$CHAINR_ARTIFACTS/a/f"
    inputs:
      artifacts:
        - from: a
          name: f
`),
    );
    expect(errors).toEqual([
      {
        path: 'jobs.b.inputs.artifacts[0].from',
        message:
          'job "a" is not an ancestor of "b": a job receives the artifacts of the jobs it depends on, directly or through others',
        line: 12,
        column: 17,
      },
    ]);
  });

  it('refuses unknown jobs, undeclared names, matrix sources and inputs listed twice', () => {
    const errors = errorsOf(
      pipeline(`  a:
    image: busybox
    run: echo
    matrix: { os: [x, y] }
    artifacts: [{ name: f, path: f }]
  b:
    image: busybox
    run: echo
    artifacts: [{ name: f, path: f }]
  c:
    image: busybox
    run: echo
    dependsOn: [{ job: a }, { job: b }]
    inputs:
      artifacts: [{ from: nope, name: f }, { from: b, name: g }, { from: a, name: f }, { from: b, name: g }]
`),
    ).map((e) => `${e.path}: ${e.message}`);
    expect(errors).toEqual([
      'jobs.c.inputs.artifacts[0].from: unknown job "nope": a job receives the artifacts of the jobs it depends on, directly or through others',
      'jobs.c.inputs.artifacts[1].name: "b" declares no artifact "g" (it declares f)',
      'jobs.c.inputs.artifacts[2].from: "a" is a matrix job: its instances each produce their own artifacts, which cannot be told apart here',
      'jobs.c.inputs.artifacts[3]: artifact "g" of "b" is listed twice',
    ]);
  });

  it('refuses paths that leave the working directory and names declared twice', () => {
    const errors = errorsOf(
      pipeline(`  a:
    image: busybox
    run: echo
    artifacts:
      - { name: up, path: ../secret }
      - { name: abs, path: /etc/passwd }
      - { name: up, path: ok/../../x }
      - { name: -bad, path: x }
`),
    ).map((e) => `${e.path}: ${e.message}`);
    expect(errors).toEqual([
      "jobs.a.artifacts[0].path: must not contain '..': it stays inside the job's working directory",
      "jobs.a.artifacts[1].path: must be relative to the job's working directory, not absolute",
      'jobs.a.artifacts[2].name: artifact "up" is declared twice',
      "jobs.a.artifacts[2].path: must not contain '..': it stays inside the job's working directory",
      expect.stringMatching(/^jobs\.a\.artifacts\[3\]\.name: /),
    ]);
  });
});
