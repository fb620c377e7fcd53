/** The runs resource: submit, list, get, counts, cancel, retry, resubmit. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseSelector } from '../../core/selector.ts';
import { RUN_STATUSES, type RunStatus } from '../../core/types.ts';
import { formatError } from '../../core/validate.ts';
import type { RunHistory } from './history.ts';
import type { Transitions } from '../../store/scripts.ts';
import { SCHEDULE_LABEL } from './schedule-ticks.ts';
import type { PipelineParser } from './parser.ts';
import type { Submitter } from './submit.ts';
import type { WorkerCoverage } from './coverage.ts';
import type { RunRecord } from '../../store/run-hash.ts';
import { HttpError, resource } from '../../http/errors.ts';
import { bodyFormat, mustGetRun, runUid, type SchedOptions } from './lookup.ts';
import { answer, created, errorResponses, uidParams } from './schemas.ts';
import {
  RunCountsSchema,
  RunListSchema,
  RunSchema,
  type RunCounts,
  type RunList,
} from '../../api/wire.ts';
import { decodeContinue, encodeContinue, runView } from './views.ts';

interface RunsContext {
  /** Live and archived runs. */
  history: RunHistory;
  transitions: Transitions;
  submitter: Submitter;
  parser: PipelineParser;
  options: SchedOptions;
  coverage: WorkerCoverage;
}

async function parseSubmission(request: FastifyRequest, parser: PipelineParser, maxJobs: number) {
  const text = typeof request.body === 'string' ? request.body : '';
  if (text.trim() === '') throw new HttpError(400, 'request body is empty: send a pipeline');
  const format = bodyFormat(request.headers['content-type'], text);
  const result = await parser.parse(text, format, { maxJobs, submission: true });
  if (result.ok) return result;
  const located = result.errors.map((e) =>
    e.line === undefined
      ? formatError(e)
      : `${formatError(e)} (line ${e.line}, column ${e.column ?? 1})`,
  );
  throw new HttpError(400, `invalid pipeline: ${located.join('; ')}`, result.errors);
}

/** Labels given at submission carry over to a resubmission; a schedule's does not (not a tick). */
function labelsWithoutSchedule(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => key !== SCHEDULE_LABEL));
}

const RUN_LOCATION = 'The path of the new run';

export function registerRuns(app: FastifyInstance, ctx: RunsContext): void {
  const { history, transitions, submitter, parser, options, coverage } = ctx;

  async function accepted(uid: string) {
    const unserved = await coverage.unserved();
    return runView(await mustGetRun(history, uid), { withPipeline: false, unserved });
  }

  /** The run just submitted, as written, with a warning for each executor no live worker serves. */
  async function submittedView(run: RunRecord) {
    const unserved = await coverage.unserved();
    const view = runView(run, { withPipeline: false, unserved });
    const executors = [...new Set(run.jobs.map((j) => j.executor).filter((e) => e !== ''))];
    const warnings = executors.flatMap((executor) => {
      const why = unserved(executor);
      const jobs = run.jobs.filter((j) => j.executor === executor).map((j) => j.name);
      return why ? [`${jobs.length === 1 ? 'job' : 'jobs'} ${jobs.join(', ')}: ${why}`] : [];
    });
    return warnings.length > 0 ? { ...view, warnings } : view;
  }

  resource(app, '/api/runs', {
    POST: {
      schema: {
        operationId: 'createRun',
        summary:
          'Schedule a run: the body is a pipeline, or {"pipeline": ..., "params": {...}} (JSON or YAML, by Content-Type)',
        tags: ['runs'],
        response: {
          202: created(RunSchema, 'The run, created and its first jobs enqueued', RUN_LOCATION),
          ...errorResponses(400, 413, 415, 503),
        },
      },
      handler: async (request, reply) => {
        const { pipeline, params } = await parseSubmission(
          request,
          parser,
          options.maxJobsPerPipeline,
        );
        const submitted = await submitter.submit(pipeline, params);
        if (!submitted.ok) {
          throw new HttpError(
            400,
            `${submitted.errors.every((e) => e.path.startsWith('params')) ? 'invalid parameters' : 'cannot run this pipeline'}: ${submitted.errors.map(formatError).join('; ')}`,
            submitted.errors,
          );
        }
        // The run as just written: no need to read it back.
        return reply
          .code(202)
          .header('location', `/api/runs/${submitted.uid}`)
          .send(await submittedView(submitted.run));
      },
    },
    GET: {
      schema: {
        operationId: 'listRuns',
        summary: 'List runs, newest first, optionally filtered',
        description:
          'Live runs and, with an archive, archived ones in one list: the same filters, page size and continue token over both, each run once while runs move to the archive.',
        tags: ['runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            continue: { type: 'string', description: 'Token from the previous page' },
            status: { type: 'string', enum: [...RUN_STATUSES] },
            name: { type: 'string', description: "The pipeline's metadata.name" },
            selector: {
              type: 'string',
              description: 'Label selector: app=etl,tier!=dev,critical,!legacy',
            },
            uid: {
              type: 'string',
              pattern: '^[0-9a-f-]{4,36}$',
              description:
                "Only runs whose uid starts or ends with this (the UI shows a uid's last 8 characters); the other filters and continue do not apply",
            },
          },
        },
        response: { 200: answer(RunListSchema, 'A page of runs'), ...errorResponses(400, 503) },
      },
      handler: async (request): Promise<RunList> => {
        const query = request.query as {
          limit: number;
          continue?: string;
          status?: RunStatus;
          name?: string;
          selector?: string;
          uid?: string;
        };
        if (query.uid !== undefined) {
          const found = await history.findByUidPart(query.uid, query.limit);
          return {
            kind: 'RunList',
            metadata: { selfLink: '/api/runs' },
            items: found.map((r) => runView(r, { withPipeline: false })),
          };
        }
        const after = query.continue === undefined ? undefined : decodeContinue(query.continue);
        if (query.continue !== undefined && after === undefined) {
          throw new HttpError(400, 'continue: not a token returned by this API');
        }
        const selector = query.selector === undefined ? undefined : parseSelector(query.selector);
        if (selector && !selector.ok) throw new HttpError(400, `selector: ${selector.error}`);
        const page = await history.list(query.limit, after, {
          status: query.status,
          name: query.name,
          selector: selector?.requirements,
        });
        const unserved = await coverage.unserved();
        return {
          kind: 'RunList',
          metadata: {
            selfLink: '/api/runs',
            ...(page.next && { continue: encodeContinue(page.next) }),
          },
          items: page.runs.map((r) => runView(r, { withPipeline: false, unserved })),
        };
      },
    },
  });

  resource(app, '/api/runs/counts', {
    GET: {
      schema: {
        operationId: 'countRuns',
        summary: 'How many runs are in each status, live and archived',
        tags: ['runs'],
        response: { 200: answer(RunCountsSchema, 'The counts'), ...errorResponses(503) },
      },
      handler: async (): Promise<RunCounts> => ({
        kind: 'RunCounts',
        counts: await history.counts(),
      }),
    },
  });

  resource(app, '/api/runs/:uid', {
    GET: {
      schema: {
        operationId: 'getRun',
        summary: 'A run with its jobs and pipeline, live or archived',
        tags: ['runs'],
        params: uidParams,
        response: { 200: answer(RunSchema, 'The run'), ...errorResponses(404, 503) },
      },
      handler: async (request) =>
        runView(await mustGetRun(history, runUid(request)), {
          withPipeline: true,
          unserved: await coverage.unserved(),
        }),
    },
  });

  resource(app, '/api/runs/:uid/cancel', {
    POST: {
      schema: {
        operationId: 'cancelRun',
        summary:
          'Cancel a run: stop its running jobs, mark the waiting ones CANCELED, then run its cleanup jobs (every dependency `always`) before the run ends CANCELED; a second cancel, or force, stops those too',
        tags: ['runs'],
        params: uidParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            force: {
              type: 'boolean',
              default: false,
              description: 'Stop the cleanup jobs too: the run ends CANCELED at once',
            },
          },
        },
        response: {
          202: answer(
            RunSchema,
            'The run: CANCELED, or RUNNING while its cleanup jobs run; its running jobs are being stopped',
          ),
          ...errorResponses(400, 404, 409, 503),
        },
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const { force } = request.query as { force: boolean };
        const result = await transitions.cancelRun(uid, 'canceled by request', Date.now(), force);
        if (result.code === 'missing') {
          // An archived run has ended: the answer a live one that ended gets.
          const archived = await history.get(uid);
          if (!archived) throw new HttpError(404, `run ${uid} not found`);
          throw new HttpError(409, `run ${uid} already ended (${archived.status})`);
        }
        if (result.code === 'ended')
          throw new HttpError(409, `run ${uid} already ended (${result.status})`);
        // The jobs named: a first cancel leaves the cleanup jobs running.
        if (result.running.length > 0)
          await options.redis.publish(
            options.keys.cancelChannel,
            [uid, ...result.running].join('\n'),
          );
        await submitter.enqueue(uid, result.ready);
        return reply.code(202).send(await accepted(uid));
      },
    },
  });

  resource(app, '/api/runs/:uid/retry', {
    POST: {
      schema: {
        summary: 'Retry an ended run in place',
        description:
          'Its FAILED, SKIPPED and CANCELED jobs run again as new attempts, and every job downstream of them is decided again (a fallback is skipped if its job now succeeds); the jobs upstream keep their results. An archived run is not retried in place (409): resubmit it.',
        operationId: 'retryRun',
        tags: ['runs'],
        params: uidParams,
        response: {
          202: answer(RunSchema, 'The run, its jobs to retry PENDING again'),
          ...errorResponses(404, 409, 503),
        },
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const result = await transitions.retryRun(uid, Date.now());
        if (result.code === 'missing') {
          const archived = await history.get(uid);
          if (!archived) throw new HttpError(404, `run ${uid} not found`);
          if (archived.status === 'SUCCESSFUL')
            throw new HttpError(409, `run ${uid} was SUCCESSFUL: nothing to retry`);
          // Its state is in the archive now, not in Redis where runs advance.
          throw new HttpError(
            409,
            `run ${uid} is archived and cannot be retried in place: resubmit it (POST /api/runs/${uid}/resubmit)`,
          );
        }
        if (result.code === 'running') {
          throw new HttpError(
            409,
            `run ${uid} has not ended (${result.status}): cancel it first or wait`,
          );
        }
        if (result.code !== 'ok')
          throw new HttpError(409, `run ${uid} was SUCCESSFUL: nothing to retry`);
        await submitter.enqueue(uid, result.ready);
        return reply.code(202).send(await accepted(uid));
      },
    },
  });

  resource(app, '/api/runs/:uid/resubmit', {
    POST: {
      schema: {
        operationId: 'resubmitRun',
        summary: 'Submit a new run of the same pipeline with the same parameters',
        tags: ['runs'],
        params: uidParams,
        response: {
          202: created(RunSchema, 'The new run', RUN_LOCATION),
          ...errorResponses(400, 404, 503),
        },
      },
      handler: async (request, reply) => {
        const previous = await mustGetRun(history, runUid(request));
        const submitted = await submitter.submit(
          previous.pipeline,
          previous.params,
          labelsWithoutSchedule(previous.labels),
        );
        if (!submitted.ok) throw new HttpError(400, submitted.errors.map(formatError).join('; '));
        return reply
          .code(202)
          .header('location', `/api/runs/${submitted.uid}`)
          .send(await submittedView(submitted.run));
      },
    },
  });
}
