/**
 * A table of API objects whose exact shape this UI does not assume (schedules, instances):
 * their name, then their plain fields, one level deep.
 */
import { formatRelative, formatTimestamp } from './format.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A plain value as text (objects never reach here; this keeps them readable if they do). */
const scalar = (value: unknown): string =>
  typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);

/** Plain fields of an object, nested objects flattened one level (`spec.schedule`). */
export function flatten(item: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key === 'kind') continue;
    if (isObject(value)) {
      for (const [inner, v] of Object.entries(value)) {
        if (v === null || isObject(v) || Array.isArray(v) || inner === 'selfLink') continue;
        out[
          key === 'metadata' || key === 'spec' || key === 'status' ? inner : `${key}.${inner}`
        ] ??= scalar(v);
      }
    } else if (Array.isArray(value))
      out[key] = value.every((v) => !isObject(v))
        ? value.map(scalar).join(', ')
        : `${value.length} items`;
    else if (value !== null && value !== undefined) out[key] = scalar(value);
  }
  return out;
}

export function columnsOf(rows: readonly Record<string, string>[], max = 8): string[] {
  const counts = new Map<string, number>();
  for (const row of rows)
    for (const key of Object.keys(row)) counts.set(key, (counts.get(key) ?? 0) + 1);
  const keys = [...counts.keys()];
  const first = ['name', 'uid', 'id'].filter((k) => counts.has(k));
  return [...first, ...keys.filter((k) => !first.includes(k))].slice(0, max);
}

/** Headers said in words where the field's name would not be. */
const TITLES: Record<string, string> = {
  id: 'ID',
  uid: 'ID',
  pid: 'PID',
  startedAt: 'Started',
  lastSeen: 'Last heartbeat',
  concurrency: 'Jobs at once',
};

/** A column's header: `lastSeen` → `Last heartbeat`, `cpuLimit` → `Cpu limit`, `spec.x` → `Spec x`. */
export function columnTitle(key: string): string {
  const known = TITLES[key];
  if (known) return known;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[._-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function ObjectTable({ items, now }: { items: readonly Json[]; now: number }) {
  const rows = items.map(flatten);
  const columns = columnsOf(rows);
  return (
    <table className="table">
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c} scope="col" title={c}>
              {columnTitle(c)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr key={row['uid'] ?? row['name'] ?? row['id'] ?? i}>
            {columns.map((c) => {
              const value = row[c] ?? '';
              return ISO.test(value) ? (
                <td key={c} title={formatTimestamp(value)}>
                  {formatRelative(value, now)}
                </td>
              ) : (
                <td key={c} className={c === 'name' ? '' : 'mono'}>
                  {value}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
