/** The runs list's filters, kept in the address (`/?status=FAILED&name=nightly&selector=app=etl`). */
import { RUN_STATUSES } from '../../../src/core/types.ts';
import type { RunStatus } from '../../../src/core/types.ts';

export interface RunFilter {
  status?: RunStatus;
  name?: string;
  selector?: string;
}

const isRunStatus = (value: string): value is RunStatus =>
  (RUN_STATUSES as readonly string[]).includes(value);

export function filterFromSearch(search: string): RunFilter {
  const params = new URLSearchParams(search);
  const filter: RunFilter = {};
  const status = params.get('status')?.toUpperCase();
  if (status && isRunStatus(status)) filter.status = status;
  const name = params.get('name')?.trim();
  if (name) filter.name = name;
  const selector = params.get('selector')?.trim();
  if (selector) filter.selector = selector;
  return filter;
}

export function filterToSearch(filter: RunFilter): string {
  const params = new URLSearchParams();
  if (filter.status) params.set('status', filter.status);
  if (filter.name) params.set('name', filter.name);
  if (filter.selector) params.set('selector', filter.selector);
  return params.toString();
}

export const isFiltered = (filter: RunFilter) =>
  filter.status !== undefined || filter.name !== undefined || filter.selector !== undefined;

/** Only the filters the server understands (the others are not offered). */
export function supportedFilter(
  filter: RunFilter,
  supports: { status: boolean; name: boolean; selector: boolean },
): RunFilter {
  return {
    ...(supports.status && filter.status && { status: filter.status }),
    ...(supports.name && filter.name && { name: filter.name }),
    ...(supports.selector && filter.selector && { selector: filter.selector }),
  };
}

/**
 * A label selector's syntax, checked before it is sent: comma-separated `key=value`,
 * `key==value`, `key!=value`, `key` or `!key`. Returns what is wrong, or undefined.
 */
export function selectorProblem(selector: string): string | undefined {
  const KEY = '[A-Za-z0-9._/-]{1,63}';
  const VALUE = '[A-Za-z0-9._-]{0,63}';
  const requirement = new RegExp(`^(!?${KEY}|${KEY}\\s*(=|==|!=)\\s*${VALUE})$`);
  for (const part of selector.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') return 'empty requirement between commas';
    if (!requirement.test(trimmed)) return `"${trimmed}" is not key=value, key!=value, key or !key`;
  }
  return undefined;
}
