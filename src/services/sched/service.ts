/** sched: the HTTP API. Validates pipelines, creates runs, reads, cancels, streams events and logs. */
import Fastify, { errorCodes, LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { pipelineSchema } from '../../core/validate.ts';
import { EventHub } from '../../store/events.ts';
import { LogHub } from '../../store/log-hub.ts';
import { LogStore } from '../../store/logs.ts';
import { StreamLimits } from './stream-limits.ts';
import { ReadyQueues } from '../../store/queue.ts';
import { RunStore } from '../../store/runs.ts';
import { Transitions } from '../../store/scripts.ts';
import { ScheduleStore } from '../../store/schedules.ts';
import { startScheduleTicks } from './schedule-ticks.ts';
import { Submitter } from './submit.ts';
import { HttpError, installErrorHandling, resource } from '../../http/errors.ts';
import { serverTimeouts } from '../../http/timeouts.ts';
import { registerInstances } from './instances.ts';
import { registerNotifications } from './notifications.ts';
import { PipelineParser } from './parser.ts';
import type { ArchiveStore } from '../../archive/store.ts';
import { FORM_TYPE, PIPELINE_TYPES, type SchedOptions } from './lookup.ts';
import { swaggerOptions } from './openapi.ts';
import { answer } from './schemas.ts';
import { registerRuns } from './runs.ts';
import { WorkerCoverage } from './coverage.ts';
import { InstanceStore } from '../../store/instances.ts';
import { registerSchedules } from './schedules.ts';
import {
  APIResourceListSchema,
  type APIResourceList,
  PIPELINE_SCHEMA_ID,
  WIRE_SCHEMAS,
} from '../../api/wire.ts';
import { registerStreams } from './streams.ts';
import { corruptRecordReporter } from '../../http/ops/metrics.ts';
import { registerArtifacts } from './artifacts.ts';
import { registerTrends } from './trends.ts';
import { RunHistory } from './history.ts';

/**
 * What `GET /api` lists, keyed by name as the original chainr did (`url`, `description`), with
 * each resource's kind and verbs.
 */
const API_RESOURCES: APIResourceList['resources'] = Object.fromEntries(
  (
    [
      ['runs', '/api/runs', 'Interact with runs', 'Run', ['create', 'list', 'get']],
      ['runs/counts', '/api/runs/counts', 'How many runs are in each status', 'RunCounts', ['get']],
      [
        'pipelines/trends',
        '/api/pipelines/{name}/trends',
        "A pipeline's durations, success rate per day and slowest jobs",
        'PipelineTrends',
        ['get'],
      ],
      ['runs/cancel', '/api/runs/{uid}/cancel', 'Cancel a run', 'Run', ['create']],
      ['runs/retry', '/api/runs/{uid}/retry', "Retry a run's failed jobs", 'Run', ['create']],
      [
        'runs/resubmit',
        '/api/runs/{uid}/resubmit',
        'Run the same pipeline again',
        'Run',
        ['create'],
      ],
      ['runs/events', '/api/runs/{uid}/events', "Follow a run's transitions", 'Event', ['watch']],
      [
        'runs/jobs/logs',
        '/api/runs/{uid}/jobs/{job}/logs',
        "Read or follow a job's log",
        'Log',
        ['get', 'watch'],
      ],
      [
        'runs/jobs/artifacts',
        '/api/runs/{uid}/jobs/{job}/artifacts',
        "List and download a job's artifacts",
        'ArtifactList',
        ['list', 'get'],
      ],
      ['events', '/api/events', "Follow every run's transitions", 'Event', ['watch']],
      [
        'schedules',
        '/api/schedules',
        'Run pipelines on a cron schedule',
        'Schedule',
        ['create', 'list', 'get', 'delete'],
      ],
      ['schedules/pause', '/api/schedules/{id}/pause', 'Pause a schedule', 'Schedule', ['create']],
      [
        'schedules/resume',
        '/api/schedules/{id}/resume',
        'Resume a schedule',
        'Schedule',
        ['create'],
      ],
      ['notifications', '/api/notifications', 'Notification deliveries', 'Notification', ['list']],
      ['instances', '/api/instances', 'The live service instances', 'Instance', ['list']],
      ['health', '/api/health', "The deployment's health", 'Health', ['get']],
      [
        'schema/pipeline',
        '/api/schema/pipeline',
        'The pipeline JSON Schema',
        'JSONSchema',
        ['get'],
      ],
      ['openapi.json', '/api/openapi.json', 'This API as an OpenAPI document', 'OpenAPI', ['get']],
    ] as const
  ).map(([name, url, description, kind, verbs]) => [
    name,
    { url, description, kind, verbs: [...verbs] },
  ]),
);

/** How long closing waits for the schedule queue and worker to be ready (see onClose). */
const READY_WAIT_MS = 2000;

export async function buildSched(options: SchedOptions): Promise<FastifyInstance> {
  const { redis, keys } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    ...serverTimeouts(options.httpTimeouts),
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // POST /api/runs/ is POST /api/runs, as in the original chainr.
    routerOptions: { ignoreTrailingSlash: true },
  });
  const reportCorrupt = corruptRecordReporter(options.logger);
  const runs = new RunStore(redis, keys, options.maxEvents, reportCorrupt);
  const history = new RunHistory(runs, options.archive);
  const transitions = new Transitions(redis, keys, options.maxEvents);
  const logs = new LogStore(redis, keys, options.maxLogLines);
  const queues = new ReadyQueues(redis, keys);
  const submitter = new Submitter(
    queues,
    keys,
    options.maxEvents,
    options.defaultExecutor,
    options.replication,
    options.refuseExecutor,
    options.workspaceAccessModes,
  );
  const schedules = new ScheduleStore(redis, keys);
  const coverage = new WorkerCoverage(new InstanceStore(redis, keys, reportCorrupt));
  const parser = new PipelineParser();
  app.addHook('onListen', (done) => {
    parser.warm();
    done();
  });
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
  const logHub = new LogHub(options.connectBlocking(), keys, (err) =>
    options.logger.warn({ err }, 'log stream read failed; retrying'),
  );
  const streamLimits = new StreamLimits(options.streamLimits);
  // Without an archive, trends are aggregated by the same SQL over the live runs alone, in an
  // empty SQLite database in memory, opened when trends are first asked for: its drivers are not
  // loaded before.
  let emptyArchive: Promise<ArchiveStore> | undefined;
  const trendsArchive = async (): Promise<ArchiveStore> =>
    options.archive ??
    (emptyArchive ??= import('../../archive/open.ts').then(({ openArchive }) =>
      openArchive({ backend: 'sqlite', path: ':memory:' }),
    ));
  app.addHook('onClose', async () => {
    // BullMQ stops listening to a connection it was given when closed before that connection was
    // ready, and the readiness check then fails unheard and ends the process (a sched stopped as
    // soon as started, as `npm run docs:openapi` does): let both get ready first, while Redis
    // answers.
    await Promise.race([
      Promise.all([ticks.waitUntilReady(), schedules.queue.waitUntilReady()]).catch(
        () => undefined,
      ),
      new Promise((done) => setTimeout(done, READY_WAIT_MS).unref()),
    ]);
    await events.stop();
    await logHub.stop();
    // Forced: a tick worker whose Redis was restarted under it waited forever for its blocking
    // call; a tick cut short is re-delivered and taken at most once (its tick mark).
    await ticks.close(true);
    ticksConnection.disconnect();
    await schedules.close();
    await queues.close();
    await parser.close();
    await emptyArchive?.then(
      (archive) => archive.close(),
      () => undefined,
    );
  });

  installErrorHandling(app, options.bodyLimitBytes);
  app.removeAllContentTypeParsers();
  // Bodies are decoded strictly: invalid UTF-8 is refused rather than silently replaced.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const decode = (body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, utf8.decode(body as Buffer));
    } catch {
      done(new HttpError(400, 'request body is not valid UTF-8'), undefined);
    }
  };
  app.addContentTypeParser(
    [...PIPELINE_TYPES, FORM_TYPE],
    { parseAs: 'buffer' },
    (_req, body, done) => decode(body, done),
  );
  // The original chainr read a body whatever its type: one sent without any (or as a form, curl's
  // default) is read by what it holds. Any other type is refused (415).
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const type = request.headers['content-type'];
    if (type === undefined) return decode(body, done);
    done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(type), undefined);
  });
  app.addSchema({ $id: PIPELINE_SCHEMA_ID, ...pipelineSchema });
  for (const schema of WIRE_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, swaggerOptions());

  resource(app, '/api', {
    GET: {
      schema: {
        operationId: 'getAPIResources',
        summary: 'What this API serves',
        tags: ['discovery'],
        response: { 200: answer(APIResourceListSchema, 'The resources, keyed by name') },
      },
      handler: (): APIResourceList => ({
        kind: 'APIResourceList',
        metadata: { selfLink: '/api' },
        groupVersion: 'v1',
        resources: API_RESOURCES,
      }),
    },
  });

  resource(app, '/api/schema/pipeline', {
    GET: {
      schema: {
        operationId: 'getPipelineSchema',
        summary: 'The pipeline JSON Schema',
        tags: ['pipelines'],
        response: {
          200: {
            description: 'A JSON Schema (draft-07), the Pipeline schema of this document',
            content: {
              'application/json': { schema: { type: 'object', additionalProperties: true } },
            },
          },
        },
      },
      handler: () => pipelineSchema,
    },
  });

  resource(app, '/api/openapi.json', {
    GET: {
      schema: {
        operationId: 'getOpenAPIDocument',
        summary: 'This API as an OpenAPI 3.1 document',
        tags: ['discovery'],
        response: {
          200: {
            description: 'This document',
            content: {
              'application/json': { schema: { type: 'object', additionalProperties: true } },
            },
          },
        },
      },
      handler: () => app.swagger(),
    },
  });

  registerRuns(app, { history, transitions, submitter, parser, options, coverage });
  registerSchedules(app, { schedules, runs: history }, parser, options.maxJobsPerPipeline);
  const streamsContext = { runs, history, logs, events, logHub, streamLimits, options, coverage };
  registerStreams(app, streamsContext);
  registerArtifacts(app, streamsContext);
  registerTrends(app, { runs, archive: trendsArchive, archived: options.archive !== undefined });
  registerNotifications(app, redis, keys, reportCorrupt);
  registerInstances(app, redis, keys, reportCorrupt);
  return app;
}
