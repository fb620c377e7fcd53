/** sched: the HTTP API. Validates pipelines, creates runs, reads, cancels, streams events and logs. */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import type { Redis } from 'ioredis';
import { compile } from '../../core/dag.ts';
import { formatError, parsePipeline, pipelineSchema } from '../../core/validate.ts';
import { EventHub } from '../../store/events.ts';
import type { Keys } from '../../store/keys.ts';
import { LogStore } from '../../store/logs.ts';
import { enqueue, readyQueue } from '../../store/queue.ts';
import { RunStore } from '../../store/runs.ts';
import { Transitions } from '../../store/scripts.ts';
import { HttpError, installErrorHandling, resource } from './errors.ts';
import { registerStreams } from './streams.ts';
import {
  ErrorSchema,
  JobSchema,
  RunListSchema,
  RunSchema,
  errorResponses,
  uidParams,
} from './schemas.ts';
import { mustGetRun, runUid } from './lookup.ts';
import { decodeContinue, encodeContinue, runView } from './views.ts';

export interface SchedOptions {
  /** Commands connection; it should fail fast so that requests answer 503 during outages. */
  redis: Redis;
  /** Opens a connection reserved for blocking reads (event hub, log follow). */
  connectBlocking: () => Redis;
  keys: Keys;
  maxEvents: number;
  maxLogLines: number;
  maxJobsPerPipeline: number;
  bodyLimitBytes: number;
  logger: FastifyBaseLogger;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

export async function buildSched(options: SchedOptions): Promise<FastifyInstance> {
  const { redis, keys } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  const runs = new RunStore(redis, keys, options.maxEvents);
  const transitions = new Transitions(redis, keys, options.maxEvents);
  const logs = new LogStore(redis, keys, options.maxLogLines);
  const queue = readyQueue(redis, keys);
  const events = new EventHub(options.connectBlocking(), keys, (err) =>
    options.logger.warn({ err }, 'event stream read failed; retrying'),
  );
  events.start();
  app.addHook('onClose', async () => {
    await events.stop();
    await queue.close();
  });

  installErrorHandling(app, options.bodyLimitBytes);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', ...YAML_TYPES],
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  );
  for (const schema of [JobSchema, RunSchema, RunListSchema, ErrorSchema]) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'chainr API',
        version: '1',
        description: 'Schedule pipelines of container jobs and follow their runs.',
      },
      components: { schemas: { Pipeline: pipelineSchema as Record<string, unknown> } },
    },
    // The body is parsed by chainr itself (to locate errors by line), so the route declares no body
    // schema for Fastify to validate; the document still says what it is.
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const { openapiObject } = document;
      const pipeline = { schema: { $ref: '#/components/schemas/Pipeline' } };
      const post = openapiObject.paths?.['/api/runs']?.post;
      if (post) {
        post.requestBody = {
          required: true,
          content: Object.fromEntries(
            ['application/json', ...YAML_TYPES].map((t) => [t, pipeline]),
          ),
        };
      }
      return openapiObject;
    },
    refResolver: {
      buildLocalReference: (json, _base, _frag, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });

  resource(app, '/api', {
    GET: {
      schema: { summary: 'What this API serves', tags: ['discovery'] },
      handler: () => ({
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          { name: 'runs', kind: 'Run', verbs: ['create', 'list', 'get'] },
          { name: 'runs/cancel', kind: 'Run', verbs: ['create'] },
          { name: 'runs/events', kind: 'Event', verbs: ['watch'] },
          { name: 'runs/jobs/logs', kind: 'Log', verbs: ['get', 'watch'] },
          { name: 'events', kind: 'Event', verbs: ['watch'] },
          { name: 'schema/pipeline', kind: 'JSONSchema', verbs: ['get'] },
          { name: 'openapi.json', kind: 'OpenAPI', verbs: ['get'] },
        ],
      }),
    },
  });

  resource(app, '/api/schema/pipeline', {
    GET: {
      schema: { summary: 'The pipeline JSON Schema', tags: ['pipelines'] },
      handler: () => pipelineSchema,
    },
  });

  resource(app, '/api/openapi.json', {
    GET: { schema: { hide: true }, handler: () => app.swagger() },
  });

  resource(app, '/api/runs', {
    POST: {
      schema: {
        summary: 'Schedule a run of a pipeline (JSON or YAML body, by Content-Type)',
        tags: ['runs'],
        response: { 202: { $ref: 'Run#' }, ...errorResponses(400, 413, 415, 503) },
      },
      handler: async (request, reply) => {
        const pipeline = parseBody(request, options.maxJobsPerPipeline);
        const compiled = compile(pipeline);
        const uid = await runs.create(pipeline, compiled, Date.now());
        await enqueue(
          queue,
          uid,
          compiled.roots.map((job) => ({ job, attempt: 1 })),
        );
        const run = await runs.get(uid);
        if (!run) throw new Error(`run ${uid} vanished right after creation`);
        return reply
          .code(202)
          .header('location', `/api/runs/${uid}`)
          .send(runView(run, { withPipeline: false }));
      },
    },
    GET: {
      schema: {
        summary: 'List runs, newest first',
        tags: ['runs'],
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            continue: { type: 'string', description: 'Token from the previous page' },
          },
        },
        response: { 200: { $ref: 'RunList#' }, ...errorResponses(400, 503) },
      },
      handler: async (request) => {
        const query = request.query as { limit: number; continue?: string };
        const after = query.continue === undefined ? undefined : decodeContinue(query.continue);
        if (query.continue !== undefined && after === undefined) {
          throw new HttpError(400, 'continue: not a token returned by this API');
        }
        const page = await runs.list(query.limit, after);
        return {
          kind: 'RunList',
          metadata: {
            selfLink: '/api/runs',
            ...(page.next && { continue: encodeContinue(page.next) }),
          },
          items: page.runs.map((r) => runView(r, { withPipeline: false })),
        };
      },
    },
  });

  resource(app, '/api/runs/:uid', {
    GET: {
      schema: {
        summary: 'A run with its jobs and pipeline',
        tags: ['runs'],
        params: uidParams,
        response: { 200: { $ref: 'Run#' }, ...errorResponses(404, 503) },
      },
      handler: async (request) =>
        runView(await mustGetRun(runs, runUid(request)), { withPipeline: true }),
    },
  });

  resource(app, '/api/runs/:uid/cancel', {
    POST: {
      schema: {
        summary: 'Cancel a run: stop its running jobs, mark the rest CANCELED',
        tags: ['runs'],
        params: uidParams,
        response: { 202: { $ref: 'Run#' }, ...errorResponses(404, 409, 503) },
      },
      handler: async (request, reply) => {
        const id = runUid(request);
        const result = await transitions.cancelRun(id, 'canceled by request', Date.now());
        if (result.code === 'missing') throw new HttpError(404, `run ${id} not found`);
        if (result.code === 'ended')
          throw new HttpError(409, `run ${id} already ended (${result.status})`);
        if (result.running.length > 0) await redis.publish(keys.cancelChannel, id);
        return reply.code(202).send(runView(await mustGetRun(runs, id), { withPipeline: false }));
      },
    },
  });

  registerStreams(app, { runs, logs, events, options });
  return app;
}

function parseBody(request: FastifyRequest, maxJobs: number) {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = typeof request.body === 'string' ? request.body : '';
  if (text.trim() === '') throw new HttpError(400, 'request body is empty: send a pipeline');
  const result = parsePipeline(text, YAML_TYPES.includes(type) ? 'yaml' : 'json', { maxJobs });
  if (result.ok) return result.pipeline;
  const located = result.errors.map((e) =>
    e.line === undefined
      ? formatError(e)
      : `${formatError(e)} (line ${e.line}, column ${e.column ?? 1})`,
  );
  throw new HttpError(400, `invalid pipeline: ${located.join('; ')}`, result.errors);
}
