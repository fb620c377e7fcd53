/**
 * The auth plugin: security headers on every answer, CORS for configured origins, bearer-token
 * auth with roles, and rate limits per token and per address. Registered by `chainr up`,
 * `chainr sched` and `chainr gate`; its hooks apply to the whole application.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorView } from '../errors.ts';
import { applyCors, setSecurityHeaders } from './headers.ts';
import { refuseHost, refuseOrigin } from './hosts.ts';
import { RateLimiter } from './rate-limit.ts';
import { isPublic, requiredRole } from './roles.ts';
import type { SecuritySettings } from './security.ts';
import { atLeast, findToken, type TokenEntry } from './tokens.ts';

const REALM = 'Bearer realm="chainr"';

function refuse(
  reply: FastifyReply,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(status)
    .headers(headers)
    .type('application/json; charset=utf-8')
    .send(errorView(message));
}

/** The path of a request, with repeated slashes collapsed and escapes decoded where valid. */
export function normalizedPath(url: string): string {
  const raw = url.split('?')[0] ?? '/';
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // keep it raw: an invalid escape cannot name anything anyway
  }
  return decoded.replace(/\/{2,}/g, '/');
}

/** No `..` segment (however escaped), NUL or backslash: nothing here may climb out of a root. */
export function isSafePath(path: string): boolean {
  return !/(^|\/)\.\.(\/|$)/.test(path) && !path.includes('\0') && !path.includes('\\');
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}

/** Who sent each request, as the limits count them: its token's name, or its address. */
const clients = new WeakMap<object, string>();

/**
 * `token:<name>` for a request with a valid token, else `addr:<client address>`: the key the
 * rate limit and the stream limits count a client by.
 */
export function clientOf(request: FastifyRequest): string {
  return clients.get(request.raw) ?? `addr:${request.ip}`;
}

function authPlugin(
  app: FastifyInstance,
  settings: SecuritySettings,
  done: (err?: Error) => void,
): void {
  const { tokens, corsOrigins } = settings;
  const authOn = tokens.length > 0;
  const limiter = settings.rateLimit ? new RateLimiter(settings.rateLimit) : undefined;

  app.addHook('onRequest', async (request, reply) => {
    setSecurityHeaders(reply.raw);
    if (applyCors(corsOrigins, request.raw, reply.raw)) {
      reply.hijack();
      return;
    }
    const method = request.method;
    const path = normalizedPath(request.url);
    if (!isSafePath(path)) return refuse(reply, 400, 'invalid path');
    const presented = authOn ? bearer(request) : undefined;
    const entry: TokenEntry | undefined =
      presented === undefined || presented === '' ? undefined : findToken(tokens, presented);

    const key = entry ? `token:${entry.name}` : `addr:${request.ip}`;
    clients.set(request.raw, key);
    if (limiter) {
      const wait = limiter.take(key);
      if (wait > 0)
        return refuse(reply, 429, `too many requests; retry in ${wait} s`, {
          'retry-after': String(wait),
        });
    }
    if (!authOn) {
      // With auth off, the Host and Origin checks are what keeps other web sites out.
      const refusal =
        refuseHost(settings, request.headers.host) ??
        refuseOrigin(settings, method, request.headers.origin, request.headers.host);
      if (refusal !== undefined) return refuse(reply, 403, refusal);
      return;
    }
    if (presented !== undefined && !entry)
      return refuse(reply, 401, 'invalid token', {
        'www-authenticate': `${REALM}, error="invalid_token"`,
      });
    if (!entry) {
      if (isPublic(method, path)) return;
      return refuse(reply, 401, 'authentication required: send Authorization: Bearer <token>', {
        'www-authenticate': REALM,
      });
    }
    const required = requiredRole(method, path);
    if (!atLeast(entry.role, required))
      return refuse(
        reply,
        403,
        `token "${entry.name}" has role ${entry.role}; ${method} ${path} needs ${required}`,
        { 'www-authenticate': `${REALM}, error="insufficient_scope"` },
      );
  });
  done();
}

/** Registered with `app.register(auth, settings)`; not encapsulated (like fastify-plugin). */
export const auth = Object.assign(authPlugin, { [Symbol.for('skip-override')]: true });
