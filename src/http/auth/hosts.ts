/**
 * DNS rebinding and cross-site requests, for an API without auth: a web page whose name an
 * attacker re-points at 127.0.0.1 reaches the API from the victim's browser with its own name in
 * `Host`, and any page can post a form to it. So, with auth off, a request is served only when its
 * `Host` is a name the API is known by, and one that changes state only when its `Origin` (if any)
 * is this API's own or an allowed one — as Jupyter, Vite's dev server and Docker's API do.
 */
import { isIP } from 'node:net';

export interface HostPolicy {
  /** Host names (lower case) the API is known by besides loopback names and IP literals; `*`: any. */
  allowedHosts: readonly string[];
  /** Origins allowed to call the API from other sites (CORS). */
  corsOrigins: readonly string[];
}

/** The host name of a `Host` header or URL authority, without port and brackets, lower case. */
export function hostName(authority: string): string {
  const bracketed = /^\[([^\]]*)\](:\d*)?$/.exec(authority);
  if (bracketed) return (bracketed[1] ?? '').toLowerCase();
  // An IPv6 literal without brackets has several colons and no port.
  if (authority.indexOf(':') !== authority.lastIndexOf(':')) return authority.toLowerCase();
  return authority.replace(/:\d*$/, '').toLowerCase();
}

/**
 * Names no attacker can point anywhere: loopback names, and IP literals (a page loaded from an
 * address is of that address's origin, so no other site's script reads the answers).
 */
function isRebindingProof(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0;
}

function isConfigured(policy: HostPolicy, name: string): boolean {
  return policy.allowedHosts.includes('*') || policy.allowedHosts.includes(name);
}

/** Undefined when the `Host` header may be served; else why not. */
export function refuseHost(policy: HostPolicy, host: string | undefined): string | undefined {
  // HTTP/1.0 clients may send none; browsers always do.
  if (host === undefined) return undefined;
  const name = hostName(host);
  if (isRebindingProof(name) || isConfigured(policy, name)) return undefined;
  return (
    `Host "${host}" is not a name this API is known by; with auth off only loopback names, ` +
    'IP addresses and the names in CHAINR_ALLOWED_HOSTS are served (docs/SECURITY.md)'
  );
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Undefined when a request may change state as far as its `Origin` goes: none (not a browser, or
 * a same-origin navigation), this API's own (the same authority as `Host`), an origin of
 * CHAINR_CORS_ORIGINS, or one on an allowed name (a proxy in front that is known by it).
 */
export function refuseOrigin(
  policy: HostPolicy,
  method: string,
  origin: string | undefined,
  host: string | undefined,
): string | undefined {
  if (SAFE_METHODS.has(method) || origin === undefined) return undefined;
  if (policy.corsOrigins.includes(origin)) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {
    // "null" (sandboxed frames, file: pages) and anything else unparsable: no site we know
  }
  if (
    url !== undefined &&
    (url.host === host?.toLowerCase() || isConfigured(policy, hostName(url.host)))
  )
    return undefined;
  return (
    `Origin "${origin}" may not change state here: with auth off only pages of this API itself ` +
    'and the origins in CHAINR_CORS_ORIGINS may (docs/SECURITY.md)'
  );
}
