/** How times, durations and identifiers are written across the UI. */

/** `850 ms`, `12.3 s`, `3m 04s`, `2h 05m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

const parse = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

/** From start to end, or to now while it is still going; undefined before it started. */
export function elapsed(
  startIso: string | undefined,
  endIso: string | undefined,
  now: number,
): number | undefined {
  const start = parse(startIso);
  if (start === undefined || Number.isNaN(start)) return undefined;
  const end = parse(endIso) ?? now;
  return Math.max(0, end - start);
}

/** `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`, `in 9 h`, then the date. */
export function formatRelative(iso: string | undefined, now: number): string {
  const time = parse(iso);
  if (time === undefined || Number.isNaN(time)) return '—';
  const seconds = Math.round((now - time) / 1000);
  const span = Math.abs(seconds);
  if (span < 5) return 'just now';
  let amount: string;
  if (span < 60) amount = `${span} s`;
  else if (span < 3600) amount = `${Math.floor(span / 60)} min`;
  else if (span < 86_400) amount = `${Math.floor(span / 3600)} h`;
  else if (span < 7 * 86_400) amount = `${Math.floor(span / 86_400)} d`;
  else
    return new Date(time).toLocaleDateString(undefined, {
      month: 'short',
      day: 'numeric',
      year: 'numeric',
    });
  return seconds >= 0 ? `${amount} ago` : `in ${amount}`;
}

/** A full local timestamp, for tooltips and detail panels. */
export function formatTimestamp(iso: string | undefined): string {
  const time = parse(iso);
  if (time === undefined || Number.isNaN(time)) return '—';
  return new Date(time).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** A time of day for today's times (`17:33:20`), with the date for other days. */
export function formatClock(iso: string | undefined, now: number = Date.now()): string {
  const time = parse(iso);
  if (time === undefined || Number.isNaN(time)) return '—';
  const date = new Date(time);
  const clock = date.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  if (date.toDateString() === new Date(now).toDateString()) return clock;
  return `${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${clock}`;
}

/** The random tail of a run uid (UUIDv7 starts with the time, so runs share their first digits). */
export function shortUid(uid: string): string {
  return uid.length > 8 ? uid.slice(-8) : uid;
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** `812 B`, `1.5 KiB`, `256 MiB`, `12.0 GiB`: binary units, a tenth shown below 100 when not exact. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < BYTE_UNITS.length - 1);
  const tenths = Math.round(value * 10) / 10;
  const digits = tenths >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${tenths.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? word : many}`;
}
