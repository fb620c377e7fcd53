import { render, screen } from '@testing-library/react';
import { expect, it } from 'vitest';
import { ProgressStrip } from './ProgressStrip.tsx';

it('draws a segment per status, as wide as its share, and says it in words', () => {
  const { container } = render(
    <ProgressStrip
      jobs={[
        { name: 'a', status: 'SUCCESSFUL' },
        { name: 'b', status: 'SUCCESSFUL' },
        { name: 'c', status: 'FAILED' },
        { name: 'd', status: 'RUNNING' },
      ]}
    />,
  );
  const bar = screen.getByRole('img');
  expect(bar.getAttribute('aria-label')).toBe(
    '3 of 4 jobs ended: 2 successful, 1 failed, 1 running',
  );
  const segments = [...container.querySelectorAll<HTMLElement>('.progress-segment')];
  expect(segments.map((s) => [s.className.split(' ')[1], s.style.flexGrow])).toEqual([
    ['status-successful', '2'],
    ['status-failed', '1'],
    ['status-running', '1'],
  ]);
  expect(screen.getByText('3/4')).toBeTruthy();
});
