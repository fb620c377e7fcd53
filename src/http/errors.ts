/** Every error answer is `{"kind":"Error","error":...}` with the right status code. */
import type { FastifyError, FastifyInstance, FastifyReply, RouteHandlerMethod } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ErrorSchema } from '../api/wire.ts';
import { CorruptRecordError } from '../store/corrupt.ts';
import { NotReplicatedError } from '../store/replication.ts';

/** The body of every error answer. */
export function errorView(message: string) {
  return { kind: 'Error' as const, error: message };
}

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

const REDIS_DOWN =
  /MaxRetriesPerRequest|Connection is closed|ECONNREFUSED|Stream isn't writeable|Command timed out|max number of clients reached/;

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
  if (err instanceof NotReplicatedError) return { status: 503, message: err.message };
  // Reading one record that cannot be read (a list skips it instead): say which and why.
  if (err instanceof CorruptRecordError) return { status: 500, message: err.message };
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

/** An operationId for a method a resource refuses, from its path: put_api_runs_uid_notAllowed. */
function notAllowedId(method: Method, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((w) => w.replace(/^:/, '').replace(/\W/g, ''));
  return [method.toLowerCase(), ...words, 'notAllowed'].join('_');
}

/**
 * Registers a resource's handlers, and 405 with an `Allow` header for every other method, so a
 * wrong method is told what the resource accepts; the document lists those answers too.
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
  const tags = Object.values(routes).find((r) => r.schema?.['tags'])?.schema?.['tags'] as
    string[] | undefined;
  for (const method of METHODS.filter((m) => !allowed.includes(m))) {
    app.route({
      method,
      url,
      schema: {
        operationId: notAllowedId(method, url),
        summary: `Not allowed: ${url} accepts ${allow}`,
        ...(tags !== undefined && { tags }),
        response: {
          405: Type.Ref(ErrorSchema, {
            description: 'The resource does not accept this method',
            headers: {
              allow: {
                type: 'string',
                description: `The methods it accepts: ${allow}`,
                required: true,
              },
            },
          }),
        },
      },
      handler: (_request, reply: FastifyReply) =>
        reply
          .code(405)
          .header('allow', allow)
          .send(errorView(`method not allowed; ${url} accepts ${allow}`)),
    });
  }
}
