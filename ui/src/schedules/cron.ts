/** A first check of a cron expression before the server sees it. Pure. */

const FIELD = /^[0-9A-Za-z*?,/#LW-]+$/;
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** What is wrong with a cron expression, or undefined when it looks right. */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed === '') return 'required, e.g. "0 3 * * *" for 03:00 every day';
  if (trimmed.startsWith('@'))
    return MACROS.includes(trimmed)
      ? undefined
      : `unknown shorthand; use one of ${MACROS.join(', ')}`;
  const fields = trimmed.split(/\s+/);
  if (fields.length < 5 || fields.length > 6)
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  const bad = fields.find((f) => !FIELD.test(f));
  return bad === undefined ? undefined : `"${bad}" is not a cron field`;
}

/** The browser's time zone, the default of a new schedule. */
export function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return 'UTC';
  }
}
