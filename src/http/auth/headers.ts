/** Security headers on every answer, and CORS for the configured origins only. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Fits the Vite-built React UI: scripts and styles from the same origin (React Flow sets inline
 * style attributes, hence 'unsafe-inline' for styles only), data: images (the favicon), API calls
 * and SSE to the same origin; no framing, no plugins, forms post only here.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/**
 * Set on the raw response, so that they are sent by Fastify's replies and by the streams that
 * write the response themselves (SSE, followed logs, the gate's proxy) alike.
 */
export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

const CORS_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const CORS_HEADERS = 'authorization, content-type, last-event-id';

/**
 * Adds the CORS headers when the request's origin is allowed. Answers true when the request is
 * a preflight that has been answered (204) and must go no further.
 */
export function applyCors(
  origins: readonly string[],
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const origin = req.headers.origin;
  if (origins.length === 0 || origin === undefined) return false;
  res.setHeader('vary', 'Origin');
  if (!origins.includes(origin)) return false;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', 'retry-after, www-authenticate');
  if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined)
    return false;
  res.writeHead(204, {
    'access-control-allow-methods': CORS_METHODS,
    'access-control-allow-headers': CORS_HEADERS,
    'access-control-max-age': '600',
  });
  res.end();
  return true;
}
