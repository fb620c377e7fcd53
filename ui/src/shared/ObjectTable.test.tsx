import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { columnsOf, columnTitle, flatten, ObjectTable } from './ObjectTable.tsx';

describe('ObjectTable', () => {
  it('flattens API objects one level, leaving out kinds and links', () => {
    expect(
      flatten({
        kind: 'Instance',
        metadata: { name: 'work-1', selfLink: '/x' },
        service: 'work',
        tags: ['a', 'b'],
        status: { lastSeen: '2026-01-01T00:00:00Z', nested: { deep: 1 } },
      }),
    ).toEqual({ name: 'work-1', service: 'work', tags: 'a, b', lastSeen: '2026-01-01T00:00:00Z' });
    expect(columnsOf([{ b: '1', name: 'x' }, { c: '2' }])).toEqual(['name', 'b', 'c']);
  });

  it('heads its columns in words', () => {
    expect(
      ['id', 'pid', 'lastSeen', 'startedAt', 'service', 'spec.schedule', 'maxJobs'].map(
        columnTitle,
      ),
    ).toEqual(['ID', 'PID', 'Last heartbeat', 'Started', 'Service', 'Spec schedule', 'Max jobs']);
  });

  it('renders times relative to now', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    render(<ObjectTable items={[{ name: 'w', lastSeen: '2026-01-01T00:00:00Z' }]} now={now} />);
    expect(screen.getByText('1 min ago')).toBeTruthy();
  });
});
