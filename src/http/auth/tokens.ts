/**
 * Bearer tokens and their roles. The file (YAML or JSON, e.g. a mounted Kubernetes Secret) holds
 * only SHA-256 digests of the tokens, never the tokens: `printf %s "$TOKEN" | sha256sum`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '../../config.ts';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenEntry {
  name: string;
  role: Role;
  /** SHA-256 of the token, 64 hex digits. */
  digest: Buffer;
}

export function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** `{tokens: [...]}` or a bare list of `{name, role, sha256}`. */
export function parseTokens(text: string, source: string): TokenEntry[] {
  let doc: unknown;
  try {
    doc = parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(`${source}: not YAML or JSON: ${(err as Error).message}`);
  }
  const list: unknown = Array.isArray(doc) ? doc : (doc as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list) || list.length === 0)
    throw new ConfigError(`${source}: expected a non-empty list "tokens" of {name, role, sha256}`);
  const names = new Set<string>();
  return list.map((raw: unknown, i) => {
    const at = `${source}: tokens[${i}]`;
    const e = (raw ?? {}) as Record<string, unknown>;
    if (typeof e.name !== 'string' || e.name === '') throw new ConfigError(`${at}.name: required`);
    if (names.has(e.name)) throw new ConfigError(`${at}.name: duplicate "${e.name}"`);
    names.add(e.name);
    if (!ROLES.includes(e.role as Role))
      throw new ConfigError(`${at}.role: expected one of ${ROLES.join(', ')}`);
    if (typeof e.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(e.sha256))
      throw new ConfigError(
        `${at}.sha256: expected the token's SHA-256 as 64 hex digits (printf %s TOKEN | sha256sum)`,
      );
    return { name: e.name, role: e.role as Role, digest: Buffer.from(e.sha256, 'hex') };
  });
}

export function loadTokens(path: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`CHAINR_TOKENS_FILE: cannot read ${path}: ${(err as Error).message}`);
  }
  return parseTokens(text, `CHAINR_TOKENS_FILE ${path}`);
}

/**
 * The entry a presented token belongs to. Every entry is compared, in constant time, whatever
 * matches, so the answer's timing says nothing about which digests are close.
 */
export function findToken(entries: readonly TokenEntry[], token: string): TokenEntry | undefined {
  const digest = sha256(token);
  let found: TokenEntry | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(entry.digest, digest) && !found) found = entry;
  }
  return found;
}

export function atLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}
