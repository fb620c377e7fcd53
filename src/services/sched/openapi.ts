/**
 * The OpenAPI document sched serves at /api/openapi.json (docs/openapi.json is a copy): OpenAPI
 * 3.1, so that the pipeline JSON Schema embeds as it is. Each route declares its own answers
 * (src/services/sched/*.ts, from the wire contract's schemas); what every route may answer
 * whatever it does (the auth plugin's refusals, a body that cannot be read, a shutdown) is
 * added here, once, to every operation.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import { isPublic } from '../../http/auth/roles.ts';
import { FORM_TYPE, PIPELINE_TYPES } from './lookup.ts';

/** The parts of the document this module writes. */
interface Header {
  required?: boolean;
  schema?: { required?: unknown };
}
interface Operation {
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, { headers?: Record<string, Header>; $ref?: string }>;
  security?: Record<string, string[]>[];
}
type Paths = Record<string, Partial<Record<string, Operation>>>;

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

const AUTHENTICATE = {
  'www-authenticate': {
    description: 'Bearer realm="chainr", with error="invalid_token" or "insufficient_scope"',
    schema: { type: 'string' },
  },
} as const;

/** Answers any operation can give, declared once under components.responses. */
const SHARED_RESPONSES = {
  BadRequest: {
    description:
      'The request is invalid (a path, a parameter, a body that is not valid UTF-8): the error says what',
    content: errorContent,
  },
  Unauthorized: {
    description: 'Auth is on (CHAINR_TOKENS_FILE) and no valid token was sent',
    headers: AUTHENTICATE,
    content: errorContent,
  },
  Forbidden: {
    description:
      "The token's role is below what the operation needs (viewer reads, operator submits and acts on runs, admin the rest), or, with auth off, the request's Host or Origin is not allowed",
    headers: AUTHENTICATE,
    content: errorContent,
  },
  TooLarge: {
    description: 'The body is larger than the limit (CHAINR_BODY_LIMIT)',
    content: errorContent,
  },
  UnsupportedType: {
    description: 'The body is of a content type that is not JSON, YAML or a form',
    content: errorContent,
  },
  TooManyRequests: {
    description: 'The rate limit of the token or address is reached (CHAINR_RATE_LIMIT)',
    headers: {
      'retry-after': { description: 'Seconds to wait', schema: { type: 'string' } },
    },
    content: errorContent,
  },
  InternalError: {
    description: 'An unexpected failure, logged by the server',
    content: errorContent,
  },
  Unavailable: {
    description:
      'The store (Redis) is unavailable, or the server is shutting down: try again shortly',
    content: errorContent,
  },
} as const;

const shared = (name: keyof typeof SHARED_RESPONSES) => ({
  $ref: `#/components/responses/${name}`,
});

/** Methods whose body Fastify reads before the route: any of them may refuse one. */
const WITH_BODY = new Set(['post', 'put', 'patch', 'delete']);

/** Adds the answers every operation may give to those its route declared. */
function addSharedAnswers(path: string, method: string, operation: Operation): void {
  const responses = (operation.responses ??= {});
  const add = (status: string, response: { $ref: string }) => {
    responses[status] ??= response;
  };
  if (WITH_BODY.has(method) || (operation.parameters?.length ?? 0) > 0)
    add('400', shared('BadRequest'));
  const publicOperation = isPublic(method.toUpperCase(), path);
  if (!publicOperation) add('401', shared('Unauthorized'));
  add('403', shared('Forbidden'));
  if (WITH_BODY.has(method)) {
    add('413', shared('TooLarge'));
    add('415', shared('UnsupportedType'));
  }
  add('429', shared('TooManyRequests'));
  add('500', shared('InternalError'));
  add('503', shared('Unavailable'));
  // Readable by anyone (GET /api): no token needed even when auth is on.
  if (publicOperation) operation.security = [{}];
}

/**
 * A header a route declares `required` (in its schema, as Fastify's response schemas hold
 * headers) is a required header of the document's answer.
 */
function liftRequiredHeaders(operation: Operation): void {
  for (const response of Object.values(operation.responses ?? {})) {
    for (const header of Object.values(response.headers ?? {})) {
      if (header.schema?.required !== true) continue;
      delete header.schema.required;
      header.required = true;
    }
  }
}

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'] as const;

/**
 * The bodies chainr parses itself (to locate errors by line and column), so their routes declare
 * no body schema for Fastify to check; the document still says what they are.
 */
function addRequestBodies(paths: Paths): void {
  const types = [...PIPELINE_TYPES, FORM_TYPE];
  const body = (ref: string, description: string) => ({
    required: true,
    description,
    content: Object.fromEntries(types.map((t) => [t, { schema: { $ref: ref } }])),
  });
  const runs = paths['/api/runs']?.post;
  if (runs) {
    runs.requestBody = body(
      '#/components/schemas/Submission',
      'A pipeline, or {"pipeline": ..., "params": {...}}, in JSON or YAML (a body without a content type, or sent as a form, is read by what it holds)',
    );
  }
  const schedules = paths['/api/schedules']?.post;
  if (schedules) {
    schedules.requestBody = body(
      '#/components/schemas/NewSchedule',
      'A cron expression and the pipeline it runs, in JSON or YAML',
    );
  }
}

export function swaggerOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'chainr API',
        version: '1',
        description: 'Schedule pipelines of container jobs and follow their runs.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'The server that serves this document' }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A token of the deployment (CHAINR_TOKENS_FILE), of role viewer, operator or admin. With no tokens configured, auth is off and no token is needed.',
          },
        },
        responses: SHARED_RESPONSES,
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'discovery', description: 'What this API serves' },
        { name: 'pipelines', description: 'The pipeline format' },
        { name: 'runs', description: 'Runs of pipelines and their jobs' },
        { name: 'events', description: 'Transitions as Server-Sent Events' },
        { name: 'logs', description: "Jobs' output" },
        { name: 'artifacts', description: 'Files and directories jobs stored' },
        { name: 'schedules', description: 'Pipelines run on a cron schedule' },
        { name: 'notifications', description: 'Deliveries of notifications' },
        { name: 'operations', description: 'The deployment: instances and health' },
      ],
    },
    exposeHeadRoutes: true,
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const openapi = document.openapiObject;
      const paths = (openapi.paths ?? {}) as Paths;
      addRequestBodies(paths);
      for (const [path, item] of Object.entries(paths)) {
        for (const method of METHODS) {
          const operation = item?.[method];
          if (!operation) continue;
          liftRequiredHeaders(operation);
          addSharedAnswers(path.replace(/\{[^}]+\}/g, 'x'), method, operation);
        }
      }
      return openapi;
    },
    refResolver: {
      buildLocalReference: (json, _base, _frag, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  };
}
