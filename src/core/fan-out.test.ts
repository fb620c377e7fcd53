import { describe, expect, it } from 'vitest';
import { countsText, fanOutGroups, groupStatus, isCollapsible } from './fan-out.ts';
import { expandMatrices } from './matrix.ts';
import type { Pipeline } from './types.ts';

const pipeline: Pipeline = expandMatrices({
  kind: 'Pipeline',
  jobs: {
    list: { image: 'busybox', run: 'true' },
    build: { image: 'busybox', run: 'true', matrix: { os: ['linux', 'mac'], node: ['18', '20'] } },
    convert: {
      image: 'busybox',
      run: 'true',
      forEach: '${{ jobs.list.outputs.files }}',
      dependsOn: [{ job: 'list' }],
    },
    'report-1': { image: 'busybox', run: 'true' },
  },
});

describe('fanOutGroups', () => {
  it("finds a matrix job's instances and a forEach job's, in the run's order", () => {
    const names = [
      'list',
      'build-linux-18',
      'build-linux-20',
      'build-mac-18',
      'build-mac-20',
      'convert',
      'convert-0',
      'convert-1',
      'report-1',
    ];
    expect(fanOutGroups(pipeline, names)).toEqual([
      {
        name: 'build',
        kind: 'matrix',
        instances: ['build-linux-18', 'build-linux-20', 'build-mac-18', 'build-mac-20'],
      },
      { name: 'convert', kind: 'forEach', instances: ['convert-0', 'convert-1'] },
    ]);
  });

  it('has no group for a forEach job not expanded yet, nor without a pipeline', () => {
    expect(fanOutGroups(pipeline, ['list', 'convert', 'report-1'])).toEqual([]);
    expect(fanOutGroups(undefined, ['build-linux-18', 'convert-0'])).toEqual([]);
    // a job the pipeline does not have, named like an instance of a job without forEach
    expect(fanOutGroups(pipeline, ['list-0', 'report-1'])).toEqual([]);
  });

  it('collapses groups of more than four instances', () => {
    const group = (n: number) => ({
      name: 'g',
      kind: 'forEach' as const,
      instances: Array.from({ length: n }, (_, i) => `g-${i}`),
    });
    expect(isCollapsible(group(4))).toBe(false);
    expect(isCollapsible(group(5))).toBe(true);
  });
});

describe('groupStatus', () => {
  it('is RUNNING while work remains after a start, else the worst end', () => {
    expect(groupStatus(['PENDING', 'PENDING'])).toBe('PENDING');
    expect(groupStatus(['SUCCESSFUL', 'PENDING'])).toBe('RUNNING');
    expect(groupStatus(['RUNNING', 'FAILED'])).toBe('RUNNING');
    expect(groupStatus(['SUCCESSFUL', 'FAILED', 'CANCELED'])).toBe('FAILED');
    expect(groupStatus(['SUCCESSFUL', 'CANCELED', 'SKIPPED'])).toBe('CANCELED');
    expect(groupStatus(['SUCCESSFUL', 'SKIPPED'])).toBe('SUCCESSFUL');
    expect(groupStatus(['SKIPPED', 'SKIPPED'])).toBe('SKIPPED');
  });
});

describe('countsText', () => {
  it('counts ended instances by symbol, the others by word', () => {
    const statuses = [
      ...Array<'SUCCESSFUL'>(12).fill('SUCCESSFUL'),
      ...Array<'RUNNING'>(5).fill('RUNNING'),
      ...Array<'FAILED'>(3).fill('FAILED'),
    ];
    expect(countsText(statuses)).toBe('12 ✓ 3 ✗ 5 running');
    expect(countsText(['PENDING', 'SKIPPED', 'CANCELED'])).toBe('1 ↷ 1 ⊘ 1 pending');
  });
});
