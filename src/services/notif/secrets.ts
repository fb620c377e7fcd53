/**
 * Secret values of the configuration: written literally, or read from an environment variable
 * (`{env: NAME}`) or a file (`{file: /run/secrets/x}`), and kept out of every message. Pure: the
 * environment and the file reader are given.
 */

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  /** Reads a whole file as UTF-8; throws when it cannot. */
  readFile: (path: string) => string;
}

export class SecretError extends Error {}

/**
 * The value of a setting that may be a secret reference. Returns undefined when `value` is not a
 * string nor a reference (the caller reports the type); throws SecretError when a reference
 * cannot be resolved. The message names the variable or file, never a value.
 */
export function resolveSecret(
  value: unknown,
  sources: SecretSources,
): { value: string; referenced: boolean } | undefined {
  if (typeof value === 'string') return { value, referenced: false };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const ref = value as { env?: unknown; file?: unknown };
  if (keys.length !== 1 || (typeof ref.env !== 'string' && typeof ref.file !== 'string'))
    return undefined;
  if (typeof ref.env === 'string') {
    const found = sources.env[ref.env];
    if (found === undefined || found === '')
      throw new SecretError(`environment variable ${ref.env} is not set`);
    return { value: found, referenced: true };
  }
  const path = ref.file as string;
  let text: string;
  try {
    text = sources.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SecretError(`cannot read the file ${path}${code ? ` (${code})` : ''}`);
  }
  // Files written by editors and `echo` end with a newline that is not part of the secret.
  const trimmed = text.replace(/\r?\n$/, '');
  if (trimmed === '') throw new SecretError(`the file ${path} is empty`);
  return { value: trimmed, referenced: true };
}

/** The text with every secret (of 6 characters or more: shorter ones would mangle words) replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  const longestFirst = [...secrets]
    .filter((s) => s.length >= 6)
    .sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) out = out.split(secret).join('***');
  return out;
}
