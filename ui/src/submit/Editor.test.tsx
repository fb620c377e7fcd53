import { fireEvent, render, screen } from '@testing-library/react';
import { createRef } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Editor, type EditorHandle } from './Editor.tsx';

const text = 'kind: Pipeline\njobs:\n  a:\n    image: x\n';

describe('Editor', () => {
  it('marks each line that has an error in the gutter and under the text', () => {
    const { container } = render(
      <Editor
        value={text}
        onChange={() => undefined}
        label="Pipeline"
        errors={[
          { path: 'jobs.a.run', message: 'is required', line: 3, column: 3 },
          { path: '', message: 'no position' },
        ]}
      />,
    );
    const marked = [...container.querySelectorAll('.gutter-line.has-error')].map((l) =>
      l.getAttribute('data-line'),
    );
    expect(marked).toEqual(['3']);
    expect(container.querySelector('[data-line="3"]')?.getAttribute('title')).toBe(
      'jobs.a.run: is required',
    );
    expect(container.querySelectorAll('.backdrop-line.has-error')).toHaveLength(1);
    expect(container.querySelectorAll('.gutter-line')).toHaveLength(5);
    expect(screen.getByLabelText('Pipeline').getAttribute('aria-invalid')).toBe('true');
  });

  it('moves the caret to a line and column', () => {
    const ref = createRef<EditorHandle>();
    render(
      <Editor ref={ref} value={text} onChange={() => undefined} label="Pipeline" errors={[]} />,
    );
    ref.current?.goTo(3, 3);
    const textarea = screen.getByLabelText<HTMLTextAreaElement>('Pipeline');
    expect(document.activeElement).toBe(textarea);
    expect(textarea.selectionStart).toBe(text.indexOf('a:'));
  });

  it('indents with Tab, submits with Ctrl+Enter, and lets Escape then Tab leave', () => {
    const onChange = vi.fn();
    const onSubmit = vi.fn();
    render(
      <Editor value="x" onChange={onChange} onSubmit={onSubmit} label="Pipeline" errors={[]} />,
    );
    const textarea = screen.getByLabelText<HTMLTextAreaElement>('Pipeline');
    textarea.setSelectionRange(0, 0);
    fireEvent.keyDown(textarea, { key: 'Tab' });
    expect(onChange).toHaveBeenLastCalledWith('  x');
    fireEvent.keyDown(textarea, { key: 'Enter', ctrlKey: true });
    expect(onSubmit).toHaveBeenCalledTimes(1);
    onChange.mockClear();
    fireEvent.keyDown(textarea, { key: 'Escape' });
    fireEvent.keyDown(textarea, { key: 'Tab' });
    expect(onChange).not.toHaveBeenCalled();
  });
});
