/** Terminal formatting: colours, status symbols, durations, ages and aligned tables. Pure. */
import type { JobStatus, RunStatus } from '../core/types.ts';

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan';

const CODES: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
};

/** Styles text with ANSI codes when colour is on; returns it unchanged otherwise. */
export function paint(text: string, style: Style, color: boolean): string {
  if (!color || text === '') return text;
  const [open, close] = CODES[style];
  return `\x1b[${open}m${text}\x1b[${close}m`;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/**
 * Terminal control characters (C0 but tab, DEL, C1) and the bidirectional overrides that reorder
 * what is shown. In text of several lines, line feeds and CR LF line ends are kept; a lone
 * carriage return is not (it lets a line overwrite what was printed before it).
 */
/* eslint-disable no-control-regex */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_LINE_ENDS =
  /\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

const shown = (c: string) => {
  const code = c.charCodeAt(0);
  return code > 0xff
    ? `\\u${code.toString(16).padStart(4, '0')}`
    : `\\x${code.toString(16).padStart(2, '0')}`;
};

/**
 * Text from the server (names, labels, reasons, job logs: anyone who may submit a run writes
 * them) made inert for a terminal: each control character shown as `\xHH` / `\uHHHH`, so that no
 * escape sequence can change the title, clear the screen, move the cursor or write the clipboard
 * (OSC 52). Tabs are kept, and line ends too when `lines` (a log, not a field of a table).
 */
export function escapeControls(text: string, lines = false): string {
  return text.replace(lines ? CONTROL_BUT_LINE_ENDS : CONTROL, shown);
}

/**
 * escapeControls over a stream of text (a job's log): a carriage return that ends a chunk is held
 * back until the next one says whether it begins a CR LF line end.
 */
export class StreamEscaper {
  private held = '';

  push(chunk: string): string {
    const text = this.held + chunk;
    this.held = text.endsWith('\r') ? '\r' : '';
    return escapeControls(this.held ? text.slice(0, -1) : text, true);
  }

  flush(): string {
    const rest = this.held;
    this.held = '';
    return escapeControls(rest, true);
  }
}

/** A copy of a value from the server with escapeControls applied to every string in it. */
export function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => escapeStrings(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[escapeControls(k)] = escapeStrings(v);
    return out as T;
  }
  return value;
}

/** Width on the terminal, ignoring colour codes (code points; wide characters are rare here). */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

/** Cuts a line to a terminal width, keeping colour codes and ending with `…` when cut. */
export function truncate(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  // eslint-disable-next-line no-control-regex
  for (const part of text.split(/(\x1b\[[0-9;?]*[A-Za-z])/)) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    for (const ch of part) {
      if (used >= width - 1) break;
      out += ch;
      used++;
    }
  }
  return `${out}…${text.includes('\x1b[') ? '\x1b[0m' : ''}`;
}

export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const SYMBOLS: Record<JobStatus, string> = {
  PENDING: '·',
  RUNNING: '▶',
  SUCCESSFUL: '✓',
  FAILED: '✗',
  SKIPPED: '↷',
  CANCELED: '⊘',
};

export const STATUS_STYLE: Record<JobStatus, Style> = {
  PENDING: 'dim',
  RUNNING: 'cyan',
  SUCCESSFUL: 'green',
  FAILED: 'red',
  SKIPPED: 'yellow',
  CANCELED: 'magenta',
};

/** The symbol of a status; a spinner frame while RUNNING when a frame is given. */
export function statusSymbol(status: JobStatus | RunStatus, frame?: number): string {
  if (status === 'RUNNING' && frame !== undefined) return SPINNER[frame % SPINNER.length] ?? '▶';
  return SYMBOLS[status];
}

export function paintStatus(text: string, status: JobStatus | RunStatus, color: boolean): string {
  return paint(text, STATUS_STYLE[status], color);
}

/** `0.3s`, `12.4s`, `3m04s`, `2h05m`: precise while short, compact when long. */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 1000) return `${Math.floor(safe)}ms`;
  if (safe < 60_000) return `${(Math.floor(safe / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(safe / 1000);
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 24 * 60) {
    return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
  }
  return `${Math.floor(minutes / 1440)}d${String(Math.floor(minutes / 60) % 24).padStart(2, '0')}h`;
}

/** How long ago, kubectl-style: `5s`, `3m`, `2h`, `4d`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** Milliseconds since epoch of an ISO timestamp, or undefined. */
export function epoch(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Rows of cells as left-aligned columns two spaces apart; the last column is not padded. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell))));
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleWidth(cell)),
      )
      .join('  ')
      .trimEnd(),
  );
}

/** `3 successful, 1 failed` from counts by status, in a fixed order, zero counts left out. */
export function countsLine(statuses: readonly (JobStatus | RunStatus)[]): string {
  const order: JobStatus[] = ['SUCCESSFUL', 'FAILED', 'SKIPPED', 'CANCELED', 'RUNNING', 'PENDING'];
  return order
    .map((s) => [s, statuses.filter((x) => x === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s.toLowerCase()}`)
    .join(', ');
}
