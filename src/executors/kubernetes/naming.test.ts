import { describe, expect, it } from 'vitest';
import { attemptLabels, kubernetesJobName, labelValue, selectorOf } from './naming.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const uid = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('kubernetesJobName', () => {
  it('is the same for the same attempt, whoever computes it', () => {
    expect(kubernetesJobName({ uid, job: 'build', attempt: 1 })).toBe(
      kubernetesJobName({ uid, job: 'build', attempt: 1 }),
    );
  });

  it('reads as chainr-<job>-<attempt>-<hash>', () => {
    expect(kubernetesJobName({ uid, job: 'build', attempt: 3 })).toMatch(
      /^chainr-build-3-[0-9a-f]{16}$/,
    );
  });

  it('differs when the run, the job or the attempt differs', () => {
    const names = new Set([
      kubernetesJobName({ uid, job: 'build', attempt: 1 }),
      kubernetesJobName({ uid, job: 'build', attempt: 2 }),
      kubernetesJobName({ uid, job: 'test', attempt: 1 }),
      kubernetesJobName({ uid: uid.replace('5b', '5c'), job: 'build', attempt: 1 }),
      // Same readable part, other identity: the hash tells them apart.
      kubernetesJobName({ uid, job: 'a'.repeat(63), attempt: 1 }),
      kubernetesJobName({ uid, job: `${'a'.repeat(62)}b`, attempt: 1 }),
    ]);
    expect(names.size).toBe(6);
  });

  it('stays a valid DNS label of at most 63 characters for any job name and attempt', () => {
    const jobs = [
      'a'.repeat(63),
      'x',
      'Build_App',
      '---',
      '9lives',
      'ünïcode',
      '',
      `${'a'.repeat(40)}-b`,
    ];
    for (const job of jobs)
      for (const attempt of [1, 42, 123_456_789, Number.MAX_SAFE_INTEGER]) {
        const name = kubernetesJobName({ uid, job, attempt });
        expect(name.length, name).toBeLessThanOrEqual(63);
        expect(name, name).toMatch(DNS_LABEL);
      }
  });

  it('has no collisions among many attempts', () => {
    const names = new Set<string>();
    for (let i = 0; i < 20_000; i += 1) names.add(kubernetesJobName({ uid, job: 'j', attempt: i }));
    expect(names.size).toBe(20_000);
  });
});

describe('labels', () => {
  it('labels an attempt with who manages it and its identity', () => {
    expect(attemptLabels({ uid, job: 'build', attempt: 2 }, 'prod')).toEqual({
      'app.kubernetes.io/managed-by': 'chainr',
      'chainr.io/run': uid,
      'chainr.io/job': 'build',
      'chainr.io/attempt': '2',
      'chainr.io/instance': 'prod',
    });
  });

  it('turns any text into a valid label value', () => {
    for (const text of ['chainr:', '-x-', 'a'.repeat(100), 'a b/c', '...', ''])
      expect(labelValue(text)).toMatch(LABEL_VALUE);
    expect(labelValue('chainr:prod')).toBe('chainr-prod');
  });

  it('selects exactly the given labels', () => {
    expect(selectorOf({ a: '1', 'b.io/c': 'x' })).toBe('a=1,b.io/c=x');
  });
});
