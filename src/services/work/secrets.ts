/**
 * The worker's secrets, for the jobs it runs itself (local, container): a directory laid out as
 * Kubernetes mounts a Secret (`<dir>/<name>/<key>`, one file per key), or one JSON file
 * (`{"<name>": {"<key>": "<value>"}}`). Read when a job starts, so a changed value is used by the
 * next job. A file its group or others may read or write is refused: a secret must be the
 * worker's alone. Messages name the secret, key and file, never a value.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretRef } from '../../core/types.ts';

export interface SecretsConfig {
  /** CHAINR_SECRETS_DIR: `<dir>/<name>/<key>`. Looked up first. */
  dir?: string;
  /** CHAINR_SECRETS_FILE: a JSON object of secrets, each an object of keys. */
  file?: string;
}

export type SecretsResult =
  { ok: true; values: Record<string, string> } | { ok: false; reason: string };

class SecretReadError extends Error {}

const describe = (ref: SecretRef) => `key "${ref.key}" of secret "${ref.name}"`;

/** Reads a secret file after checking that only its owner may read or write it. */
async function readPrivate(path: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SecretReadError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new SecretReadError(
      `${path} can be read or written by its group or others (mode ${octal}); make it the worker's alone (chmod 600)`,
    );
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new SecretReadError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
  }
}

export class WorkerSecrets {
  constructor(private readonly config: SecretsConfig) {}

  /** The value of each variable; a failure names the first secret that could not be read. */
  async read(refs: Record<string, SecretRef>): Promise<SecretsResult> {
    const values: Record<string, string> = {};
    let file: Record<string, unknown> | undefined;
    for (const [variable, ref] of Object.entries(refs)) {
      try {
        let value = await this.fromDir(ref);
        if (value === undefined && this.config.file) {
          file ??= await this.loadFile(this.config.file);
          value = fromFile(file, ref);
        }
        if (value === undefined) return { ok: false, reason: this.notFound(variable, ref) };
        values[variable] = value;
      } catch (err) {
        if (!(err instanceof SecretReadError)) throw err;
        return { ok: false, reason: `secret for ${variable} (${describe(ref)}): ${err.message}` };
      }
    }
    return { ok: true, values };
  }

  private async fromDir(ref: SecretRef): Promise<string | undefined> {
    if (!this.config.dir) return undefined;
    const text = await readPrivate(join(this.config.dir, ref.name, ref.key));
    // Files written by editors and `echo` end with a line break that is not part of the value.
    return text?.replace(/\r?\n$/, '');
  }

  private async loadFile(path: string): Promise<Record<string, unknown>> {
    const text = await readPrivate(path);
    if (text === undefined) throw new SecretReadError(`the secrets file ${path} does not exist`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SecretReadError(`the secrets file ${path} is not valid JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new SecretReadError(`the secrets file ${path} must hold a JSON object`);
    return parsed as Record<string, unknown>;
  }

  private notFound(variable: string, ref: SecretRef): string {
    const where = [
      this.config.dir && `${join(this.config.dir, ref.name, ref.key)}`,
      this.config.file && `${this.config.file}`,
    ].filter(Boolean);
    return where.length === 0
      ? `secret for ${variable}: ${describe(ref)} cannot be read: this worker has no secrets (CHAINR_SECRETS_DIR or CHAINR_SECRETS_FILE)`
      : `secret for ${variable}: ${describe(ref)} not found (looked in ${where.join(' and ')})`;
  }
}

function fromFile(file: Record<string, unknown>, ref: SecretRef): string | undefined {
  const secret = Object.hasOwn(file, ref.name) ? file[ref.name] : undefined;
  if (typeof secret !== 'object' || secret === null) return undefined;
  const value = Object.hasOwn(secret, ref.key)
    ? (secret as Record<string, unknown>)[ref.key]
    : undefined;
  if (value !== undefined && typeof value !== 'string')
    throw new SecretReadError(`the value of ${describe(ref)} in the secrets file is not a string`);
  return value;
}
