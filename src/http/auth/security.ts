/**
 * What the HTTP services enforce, from configuration: tokens (auth on when there are any), rate
 * limits and CORS origins; and the refusal to expose an unauthenticated API to a network.
 */
import { isIP } from 'node:net';
import { ConfigError, type Config } from '../../config.ts';
import type { RateLimitSettings } from './rate-limit.ts';
import { loadTokens, type TokenEntry } from './tokens.ts';

export interface SecuritySettings {
  /** Empty: auth is off. */
  tokens: TokenEntry[];
  rateLimit?: RateLimitSettings;
  corsOrigins: string[];
  /** With auth off: names besides loopback and IP literals that requests may be addressed to. */
  allowedHosts: string[];
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const mapped = /^::ffff:(127\.[0-9.]+)$/i.exec(host);
  return mapped !== null;
}

export function loadSecurity(config: Config): SecuritySettings {
  const { gate } = config;
  const tokens = gate.tokensFile ? loadTokens(gate.tokensFile) : [];
  if (tokens.length === 0 && !isLoopback(config.host) && !gate.allowUnauthenticated) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without authentication: anyone who reaches it could ` +
        'submit jobs, which run shell commands. Set CHAINR_TOKENS_FILE (docs/SECURITY.md), listen ' +
        'on 127.0.0.1, or — only behind another authenticating proxy or a network policy — set ' +
        'CHAINR_ALLOW_UNAUTHENTICATED=1.',
    );
  }
  return {
    tokens,
    rateLimit: gate.rateLimit,
    corsOrigins: gate.corsOrigins,
    allowedHosts: gate.allowedHosts,
  };
}
