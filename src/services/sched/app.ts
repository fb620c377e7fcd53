/** sched: the HTTP API. Validates pipelines, creates runs, reads, cancels, streams events and logs. */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { pipelineSchema } from '../../core/validate.ts';
import { EventHub } from '../../store/events.ts';
import { LogStore } from '../../store/logs.ts';
import { ReadyQueues } from '../../store/queue.ts';
import { RunStore } from '../../store/runs.ts';
import { Transitions } from '../../store/scripts.ts';
import { ScheduleStore } from '../../store/schedules.ts';
import { startScheduleTicks } from '../schedules.ts';
import { Submitter } from '../submit.ts';
import { HttpError, installErrorHandling, resource } from './errors.ts';
import { registerInstances } from './instances.ts';
import { registerNotifications } from './notifications.ts';
import { YAML_TYPES, type SchedOptions } from './lookup.ts';
import { registerRuns } from './runs.ts';
import { registerSchedules } from './schedules.ts';
import { ErrorSchema, JobSchema, RunListSchema, RunSchema } from './schemas.ts';
import { registerStreams } from './streams.ts';

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
  const queues = new ReadyQueues(redis, keys);
  const submitter = new Submitter(queues, keys, options.maxEvents, options.defaultExecutor);
  const schedules = new ScheduleStore(redis, keys);
  const ticksConnection = options.connectBlocking();
  const ticks = startScheduleTicks({
    connection: ticksConnection,
    keys,
    schedules,
    submitter,
    logger: options.logger,
  });
  const events = new EventHub(options.connectBlocking(), keys, (err) =>
    options.logger.warn({ err }, 'event stream read failed; retrying'),
  );
  events.start();
  app.addHook('onClose', async () => {
    await events.stop();
    await ticks.close();
    ticksConnection.disconnect();
    await schedules.close();
    await queues.close();
  });

  installErrorHandling(app, options.bodyLimitBytes);
  app.removeAllContentTypeParsers();
  // Bodies are decoded strictly: invalid UTF-8 is refused rather than silently replaced.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.addContentTypeParser(
    ['application/json', ...YAML_TYPES],
    { parseAs: 'buffer' },
    (_req, body, done) => {
      try {
        done(null, utf8.decode(body as Buffer));
      } catch {
        done(new HttpError(400, 'request body is not valid UTF-8'), undefined);
      }
    },
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
          { name: 'runs/counts', kind: 'RunCounts', verbs: ['get'] },
          { name: 'runs/cancel', kind: 'Run', verbs: ['create'] },
          { name: 'runs/retry', kind: 'Run', verbs: ['create'] },
          { name: 'runs/resubmit', kind: 'Run', verbs: ['create'] },
          { name: 'runs/events', kind: 'Event', verbs: ['watch'] },
          { name: 'runs/jobs/logs', kind: 'Log', verbs: ['get', 'watch'] },
          { name: 'events', kind: 'Event', verbs: ['watch'] },
          { name: 'schedules', kind: 'Schedule', verbs: ['create', 'list', 'get', 'delete'] },
          { name: 'schedules/pause', kind: 'Schedule', verbs: ['create'] },
          { name: 'schedules/resume', kind: 'Schedule', verbs: ['create'] },
          { name: 'notifications', kind: 'Notification', verbs: ['list'] },
          { name: 'instances', kind: 'Instance', verbs: ['list'] },
          { name: 'health', kind: 'Health', verbs: ['get'] },
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

  registerRuns(app, { runs, transitions, submitter, options });
  registerSchedules(app, schedules, options.maxJobsPerPipeline);
  registerStreams(app, { runs, logs, events, options });
  registerNotifications(app, redis, keys);
  registerInstances(app, redis, keys);
  return app;
}
