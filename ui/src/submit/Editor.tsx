/**
 * A plain-text editor for pipelines: line numbers, and each line with an error marked in the
 * gutter and underlaid, aligned with the text (a backdrop under a transparent textarea).
 */
import type { Ref } from 'react';
import { useImperativeHandle, useMemo, useRef } from 'react';
import type { PipelineError } from '../../../src/core/types.ts';
import { errorsByLine, offsetOf } from './validation.ts';

export interface EditorHandle {
  /** Puts the caret at a 1-based line and column and focuses the editor. */
  goTo: (line: number, column?: number) => void;
  focus: () => void;
}

export interface EditorProps {
  value: string;
  onChange: (value: string) => void;
  errors: readonly PipelineError[];
  label: string;
  onSubmit?: () => void;
  ref?: Ref<EditorHandle>;
}

const INDENT = '  ';

export function Editor({ value, onChange, errors, label, onSubmit, ref }: EditorProps) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const backdrop = useRef<HTMLDivElement>(null);
  const escaped = useRef(false);
  const byLine = useMemo(() => errorsByLine(errors), [errors]);
  const lineCount = useMemo(() => value.split('\n').length, [value]);

  useImperativeHandle(ref, () => ({
    goTo(line, column = 1) {
      const element = textarea.current;
      if (!element) return;
      const offset = offsetOf(element.value, line, column);
      element.focus();
      element.setSelectionRange(offset, offset);
      const lineHeight = parseFloat(getComputedStyle(element).lineHeight) || 18;
      const top = (line - 1) * lineHeight;
      if (
        top < element.scrollTop ||
        top > element.scrollTop + element.clientHeight - lineHeight * 2
      )
        element.scrollTop = Math.max(0, top - element.clientHeight / 3);
    },
    focus() {
      textarea.current?.focus();
    },
  }));

  const lines = [];
  const marks = [];
  for (let n = 1; n <= lineCount; n++) {
    const lineErrors = byLine.get(n);
    const title = lineErrors
      ?.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message))
      .join('\n');
    lines.push(
      <div
        key={n}
        className={`gutter-line ${lineErrors ? 'has-error' : ''}`}
        data-line={n}
        title={title}
      >
        {lineErrors && (
          <span className="gutter-marker" aria-label={`error on line ${n}`}>
            ●
          </span>
        )}
        {n}
      </div>,
    );
    marks.push(<div key={n} className={`backdrop-line ${lineErrors ? 'has-error' : ''}`} />);
  }

  return (
    <div className="editor">
      <div className="editor-gutter" ref={gutter} aria-hidden="true">
        {lines}
      </div>
      <div className="editor-code">
        <div className="editor-backdrop" ref={backdrop} aria-hidden="true">
          {marks}
        </div>
        <textarea
          ref={textarea}
          className="editor-textarea"
          aria-label={label}
          aria-invalid={errors.length > 0}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          autoCorrect="off"
          wrap="off"
          value={value}
          onChange={(event) => onChange(event.target.value)}
          onScroll={(event) => {
            const { scrollTop, scrollLeft } = event.currentTarget;
            if (gutter.current) gutter.current.scrollTop = scrollTop;
            if (backdrop.current) {
              backdrop.current.scrollTop = scrollTop;
              backdrop.current.scrollLeft = scrollLeft;
            }
          }}
          onKeyDown={(event) => {
            const wasEscaped = escaped.current;
            escaped.current = event.key === 'Escape';
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
              event.preventDefault();
              onSubmit?.();
              return;
            }
            // Tab indents; Escape then Tab leaves the editor, as keyboard users expect.
            if (event.key === 'Tab' && !event.shiftKey && !wasEscaped) {
              event.preventDefault();
              const element = event.currentTarget;
              const { selectionStart, selectionEnd } = element;
              const next = value.slice(0, selectionStart) + INDENT + value.slice(selectionEnd);
              onChange(next);
              requestAnimationFrame(() =>
                element.setSelectionRange(
                  selectionStart + INDENT.length,
                  selectionStart + INDENT.length,
                ),
              );
            }
          }}
        />
      </div>
    </div>
  );
}
