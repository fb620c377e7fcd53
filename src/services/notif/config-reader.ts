/** Reads a YAML document's values, each problem reported with its path (`media.ops.webhook.url`). */
import { ConfigError } from '../../config.ts';
import { parseDuration } from '../../core/durations.ts';
import { resolveSecret, SecretError, type SecretSources } from './secrets.ts';

export type Mapping = Record<string, unknown>;

const DURATION = /^([0-9]+(ms|s|m|h))+$/;
const ADDRESS = /^[^@\s<>,]+@[^@\s<>,]+$/;
export const at = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

export class Reader {
  readonly secrets: string[] = [];

  constructor(
    private readonly source: string,
    private readonly sources: SecretSources,
  ) {}

  fail(path: string, message: string): never {
    throw new ConfigError(`${this.source}: ${path === '' ? '' : `${path}: `}${message}`);
  }

  mapping(value: unknown, path: string, allowed: readonly string[]): Mapping {
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping');
    for (const key of Object.keys(value))
      if (!allowed.includes(key))
        this.fail(path, `unknown field "${key}" (expected ${allowed.join(', ')})`);
    return value as Mapping;
  }

  /** A string, or `{env: NAME}` / `{file: PATH}`; a sensitive one is kept out of all output. */
  text(value: unknown, path: string, sensitive = false): string {
    if (value === undefined || value === null) this.fail(path, 'is required');
    let resolved: ReturnType<typeof resolveSecret>;
    try {
      resolved = resolveSecret(value, this.sources);
    } catch (err) {
      if (err instanceof SecretError) this.fail(path, err.message);
      throw err;
    }
    if (!resolved) this.fail(path, 'must be a string, {env: VARIABLE} or {file: PATH}');
    if (resolved.value === '') this.fail(path, 'must not be empty');
    if (sensitive || resolved.referenced) this.secrets.push(resolved.value);
    return resolved.value;
  }

  optionalText(value: unknown, path: string, sensitive = false): string | undefined {
    return value === undefined || value === null ? undefined : this.text(value, path, sensitive);
  }

  integer(value: unknown, path: string, fallback: number, min: number, max: number): number {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      this.fail(path, `must be an integer from ${min} to ${max}`);
    return value;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false');
    return value;
  }

  duration(value: unknown, path: string, fallback: number): number {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !DURATION.test(value) || parseDuration(value) === 0)
      this.fail(path, 'must be a duration such as "500ms", "10s" or "5m"');
    return parseDuration(value);
  }

  list(value: unknown, path: string): unknown[] {
    if (typeof value === 'string') return [value];
    if (!Array.isArray(value) || value.length === 0) this.fail(path, 'must be a non-empty list');
    return value as unknown[];
  }

  url(value: unknown, path: string): string {
    const url = this.text(value, path, true);
    if (!/^https?:\/\/\S+$/.test(url) || !URL.canParse(url))
      this.fail(path, 'must be an http:// or https:// URL');
    return url;
  }

  addresses(value: unknown, path: string): string[] {
    return this.list(value, path).map((a, i) => {
      const address = this.text(a, at(path, i));
      if (!ADDRESS.test(address)) this.fail(at(path, i), 'must be an e-mail address');
      return address;
    });
  }
}
