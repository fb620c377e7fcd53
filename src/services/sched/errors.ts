/** Every error answer is `{"kind":"Error","error":...}` with the right status code. */
import type { FastifyError, FastifyInstance, FastifyReply, RouteHandlerMethod } from 'fastify';
import { errorView } from './views.ts';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** Structured detail for clients, e.g. each pipeline error with its path and position. */
    readonly details?: unknown[],
  ) {
    super(message);
  }
}

const REDIS_DOWN = /MaxRetriesPerRequest|Connection is closed|ECONNREFUSED|Stream isn't writeable/;

function describe(
  err: FastifyError,
  bodyLimit: number,
): { status: number; message: string; details?: unknown[] } {
  if (err instanceof HttpError)
    return { status: err.statusCode, message: err.message, details: err.details };
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, message: `request body is larger than the limit of ${bodyLimit} bytes` };
  }
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      message: `unsupported content type: send the pipeline as application/json or application/yaml`,
    };
  }
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    const details = err.validation.map((v) => {
      const path = [where, ...v.instancePath.split('/').filter(Boolean)].join('.');
      return `${path}: ${v.message ?? 'is invalid'}`;
    });
    return { status: 400, message: details.join('; ') };
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, message: err.message };
  }
  if (REDIS_DOWN.test(`${err.name} ${err.message}`)) {
    return { status: 503, message: 'the store (Redis) is unavailable; try again shortly' };
  }
  return { status: 500, message: 'internal error' };
}

export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, message, details } = describe(err, bodyLimit);
    if (status >= 500) request.log.error({ err }, 'request failed');
    void reply.code(status).send({ ...errorView(message), ...(details && { details }) });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(errorView(`no such resource: ${request.method} ${request.url.split('?')[0]}`));
  });
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

export interface RouteSpec {
  handler: RouteHandlerMethod;
  schema?: Record<string, unknown>;
}

/**
 * Registers a resource's handlers, and 405 with an `Allow` header for every other method, so a
 * wrong method is told what the resource accepts.
 */
export function resource(
  app: FastifyInstance,
  url: string,
  routes: Partial<Record<Method, RouteSpec>>,
): void {
  const allowed = Object.keys(routes) as Method[];
  const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', ');
  for (const method of allowed) {
    const route = routes[method];
    if (route) app.route({ method, url, handler: route.handler, schema: route.schema });
  }
  const others = METHODS.filter((m) => !allowed.includes(m));
  app.route({
    method: others,
    url,
    schema: { hide: true },
    handler: (_request, reply: FastifyReply) =>
      reply
        .code(405)
        .header('allow', allow)
        .send(errorView(`method not allowed; ${url} accepts ${allow}`)),
  });
}
