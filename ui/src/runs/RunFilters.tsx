/** Filters of the runs list, offered only as far as the server supports them. */
import { useEffect, useRef, useState } from 'react';
import { RUN_STATUS_ORDER, statusLabel } from '../shared/status.ts';
import type { RunStatus } from '../../../src/core/types.ts';
import { selectorProblem, type RunFilter } from './filters.ts';

export interface RunFiltersProps {
  filter: RunFilter;
  supports: { status: boolean; name: boolean; selector: boolean };
  onChange: (filter: RunFilter) => void;
}

/** A text filter applied after the user pauses typing, or at once on Enter. */
function useDebouncedText(value: string | undefined, apply: (text: string) => void) {
  const [text, setText] = useState(value ?? '');
  const applyRef = useRef(apply);
  applyRef.current = apply;
  useEffect(() => setText(value ?? ''), [value]);
  useEffect(() => {
    if (text.trim() === (value ?? '')) return;
    const timer = window.setTimeout(() => applyRef.current(text.trim()), 400);
    return () => window.clearTimeout(timer);
  }, [text, value]);
  return [text, setText] as const;
}

export function RunFilters({ filter, supports, onChange }: RunFiltersProps) {
  const [name, setName] = useDebouncedText(filter.name, (text) =>
    onChange({ ...filter, name: text || undefined }),
  );
  const [selector, setSelector] = useState(filter.selector ?? '');
  useEffect(() => setSelector(filter.selector ?? ''), [filter.selector]);
  const problem = selector.trim() === '' ? undefined : selectorProblem(selector);

  if (!supports.status && !supports.name && !supports.selector) return null;
  return (
    <form
      className="filters"
      role="search"
      aria-label="Filter runs"
      onSubmit={(event) => {
        event.preventDefault();
        if (problem) return;
        onChange({
          ...filter,
          name: name.trim() || undefined,
          selector: selector.trim() || undefined,
        });
      }}
    >
      {supports.status && (
        <label className="field field-inline">
          <span>Status</span>
          <select
            value={filter.status ?? ''}
            onChange={(event) =>
              onChange({
                ...filter,
                status: (event.target.value || undefined) as RunStatus | undefined,
              })
            }
          >
            <option value="">Any</option>
            {RUN_STATUS_ORDER.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </label>
      )}
      {supports.name && (
        <label className="field field-inline">
          <span>Name</span>
          <input
            type="search"
            value={name}
            placeholder="pipeline name"
            onChange={(event) => setName(event.target.value)}
            data-shortcut-search
          />
        </label>
      )}
      {supports.selector && (
        <label className="field field-inline">
          <span>Labels</span>
          <input
            type="search"
            className="mono"
            value={selector}
            placeholder="app=etl,tier!=dev"
            aria-invalid={problem !== undefined}
            title={problem ?? 'A label selector; press Enter to apply'}
            onChange={(event) => setSelector(event.target.value)}
            onBlur={() => {
              if (!problem && selector.trim() !== (filter.selector ?? ''))
                onChange({ ...filter, selector: selector.trim() || undefined });
            }}
          />
          {problem && <span className="field-error">{problem}</span>}
        </label>
      )}
      <button type="submit" className="visually-hidden">
        Apply filters
      </button>
    </form>
  );
}
