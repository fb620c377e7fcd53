import { describe, expect, it } from 'vitest';
import { planRun } from './plan.ts';
import type { Pipeline } from './types.ts';

const pipeline: Pipeline = {
  kind: 'Pipeline',
  metadata: { name: 'etl', labels: { app: 'etl', tier: 'dev' } },
  params: { tag: { default: 'latest' } },
  concurrency: 2,
  jobs: {
    build: {
      image: 'app:${{ params.tag }}',
      run: 'make "$CHAINR_PARAM_TAG"',
      env: { MODE: 'release' },
      timeout: '1h30m',
      retries: { limit: 2, backoff: { type: 'exponential', delay: '1s' } },
      resources: { requests: { cpu: '500m', memory: '64Mi' }, limits: { memory: '1Gi' } },
    },
    deploy: {
      image: 'kubectl',
      run: 'deploy',
      executor: 'kubernetes',
      kubernetes: { serviceAccountName: 'deployer' },
      dependsOn: [{ job: 'build' }],
    },
  },
};

describe('planRun', () => {
  const plan = planRun(pipeline, { tag: 'v1' }, { defaultExecutor: 'local' });

  it("uses the deployment's default executor for a job that names none", () => {
    expect(plan.jobs.build?.executor).toBe('local');
    expect(plan.jobs.deploy?.executor).toBe('kubernetes');
    expect(
      planRun(pipeline, { tag: 'v1' }, { defaultExecutor: 'kubernetes' }).jobs.build?.executor,
    ).toBe('kubernetes');
  });

  it('keeps the timeout as written, for the reason, and in milliseconds', () => {
    expect(plan.jobs.build).toMatchObject({ timeout: '1h30m', timeoutMs: 5_400_000 });
    expect(plan.jobs.deploy).not.toHaveProperty('timeout');
    expect(plan.jobs.deploy).not.toHaveProperty('timeoutMs');
  });

  it('applies parameters and carries retries, resources and kubernetes settings', () => {
    expect(plan.jobs.build).toEqual({
      image: 'app:v1',
      run: 'make "$CHAINR_PARAM_TAG"',
      env: { CHAINR_PARAM_TAG: 'v1', MODE: 'release' },
      executor: 'local',
      timeout: '1h30m',
      timeoutMs: 5_400_000,
      retries: { limit: 2, backoff: { type: 'exponential', delay: '1s' } },
      resources: { requests: { cpu: '500m', memory: '64Mi' }, limits: { memory: '1Gi' } },
    });
    expect(plan.jobs.deploy).toEqual({
      image: 'kubectl',
      run: 'deploy',
      env: { CHAINR_PARAM_TAG: 'v1' },
      executor: 'kubernetes',
      kubernetes: { serviceAccountName: 'deployer' },
    });
  });

  it('keeps the pipeline, its compiled DAG and the params', () => {
    expect(plan.pipeline).toBe(pipeline);
    expect(plan.params).toEqual({ tag: 'v1' });
    expect(plan.compiled.roots).toEqual(['build']);
    expect(plan.compiled.jobs.build?.dependents).toEqual(['deploy']);
  });

  it("merges the pipeline's labels with the submission's, the submission's winning", () => {
    expect(plan.labels).toEqual({ app: 'etl', tier: 'dev' });
    const labelled = planRun(
      pipeline,
      {},
      { defaultExecutor: 'local', labels: { tier: 'prod', 'chainr/schedule': 's1' } },
    );
    expect(labelled.labels).toEqual({ app: 'etl', tier: 'prod', 'chainr/schedule': 's1' });
    const bare: Pipeline = { kind: 'Pipeline', jobs: { a: { image: 'x', run: 'true' } } };
    expect(planRun(bare, {}, { defaultExecutor: 'local' }).labels).toEqual({});
  });
});
