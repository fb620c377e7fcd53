import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { parseAnsiLines } from './ansi.ts';
import { findMatches } from './log-search.ts';
import { LINE_HEIGHT, LogView } from './LogView.tsx';

describe('LogView', () => {
  it('renders only the lines around the view of a long log', () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i + 1}`);
    const { container } = render(<LogView segments={parseAnsiLines(lines)} />);
    const rendered = container.querySelectorAll('.log-line');
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(200);
    expect(container.querySelector('.log-line')?.getAttribute('data-line')).toBe('1');
    const spacer = container.querySelector<HTMLElement>('.log-spacer');
    expect(spacer?.style.height).toBe(`${50_000 * LINE_HEIGHT}px`);
  });

  it('shows ANSI colours as classes, numbers lines, and marks search matches', () => {
    const lines = ['plain', '\x1b[31mred error\x1b[0m', 'another error'];
    const matches = findMatches(['plain', 'red error', 'another error'], 'error');
    const { container } = render(
      <LogView
        segments={parseAnsiLines(lines)}
        matches={matches}
        current={1}
        firstLineNumber={11}
      />,
    );
    const second = container.querySelector('[data-line="12"]');
    expect(second?.querySelector('.ansi-fg-1')?.textContent).toBe('red ');
    const marks = [...container.querySelectorAll('mark')];
    expect(marks.map((m) => [m.textContent, m.classList.contains('log-mark-current')])).toEqual([
      ['error', false],
      ['error', true],
    ]);
    expect(container.querySelector('[data-line="13"] .log-mark-current')).not.toBeNull();
  });
});
