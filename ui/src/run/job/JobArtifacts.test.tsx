import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../../../src/api/wire.ts';
import { JobArtifacts } from './JobArtifacts.tsx';

const UID = '01900000-0000-7000-8000-000000000001';
const declared = [
  { name: 'report', path: 'out/report.csv' },
  { name: 'site', path: 'public' },
];

/** The panel's table as text, and its links. */
function view(job: Job) {
  const { container } = render(<JobArtifacts uid={UID} job={job} declared={declared} />);
  return {
    rows: [...container.querySelectorAll('tr')].map((tr) =>
      [...tr.children].map((cell) => cell.textContent ?? ''),
    ),
    links: [...container.querySelectorAll('a')].map((a) => [
      a.getAttribute('href'),
      a.getAttribute('download'),
    ]),
  };
}

describe('JobArtifacts', () => {
  it('lists stored artifacts with their size and a link to their download', () => {
    const job: Job = {
      name: 'build',
      status: 'SUCCESSFUL',
      artifacts: [
        { name: 'report', kind: 'file', size: 1536, sha256: 'a'.repeat(64), attempt: 1 },
        {
          name: 'site',
          kind: 'directory',
          size: 3 * 1024 ** 2,
          sha256: 'b'.repeat(64),
          attempt: 1,
        },
      ],
    };
    const { rows, links } = view(job);
    expect(rows).toEqual([
      ['report', '1.5 KiB', 'Download'],
      ['site (directory)', '3 MiB', 'Download .tar'],
    ]);
    expect(links).toEqual([
      [`/api/runs/${UID}/jobs/build/artifacts/report`, 'report'],
      [`/api/runs/${UID}/jobs/build/artifacts/site`, 'site.tar'],
    ]);
  });

  it('says why a declared artifact has no download', () => {
    expect(view({ name: 'build', status: 'RUNNING' }).rows).toEqual([
      ['report', 'not stored yet: stored when the job succeeds'],
      ['site', 'not stored yet: stored when the job succeeds'],
    ]);
    expect(view({ name: 'build', status: 'FAILED' }).rows[0]).toEqual([
      'report',
      'not stored: the job failed',
    ]);
    expect(view({ name: 'build', status: 'SKIPPED' }).rows[0]).toEqual([
      'report',
      'not stored: the job was skipped',
    ]);
  });
});
