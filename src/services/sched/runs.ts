/** The runs resource: submit, list, get, counts, cancel, retry, resubmit. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseSelector } from '../../core/selector.ts';
import { RUN_STATUSES, type RunStatus } from '../../core/types.ts';
import { formatError, parsePipeline } from '../../core/validate.ts';
import type { RunStore } from '../../store/runs.ts';
import type { Transitions } from '../../store/scripts.ts';
import { SCHEDULE_LABEL } from '../schedules.ts';
import type { Submitter } from '../submit.ts';
import { HttpError, resource } from './errors.ts';
import { mustGetRun, runUid, YAML_TYPES, type SchedOptions } from './lookup.ts';
import { errorResponses, uidParams } from './schemas.ts';
import { decodeContinue, encodeContinue, runView } from './views.ts';

interface RunsContext {
  runs: RunStore;
  transitions: Transitions;
  submitter: Submitter;
  options: SchedOptions;
}

function parseSubmission(request: FastifyRequest, maxJobs: number) {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = typeof request.body === 'string' ? request.body : '';
  if (text.trim() === '') throw new HttpError(400, 'request body is empty: send a pipeline');
  const format = YAML_TYPES.includes(type) ? 'yaml' : 'json';
  const result = parsePipeline(text, format, { maxJobs, submission: true });
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

const run202 = { 202: { $ref: 'Run#' } };

export function registerRuns(app: FastifyInstance, ctx: RunsContext): void {
  const { runs, transitions, submitter, options } = ctx;

  async function accepted(uid: string) {
    return runView(await mustGetRun(runs, uid), { withPipeline: false });
  }

  resource(app, '/api/runs', {
    POST: {
      schema: {
        summary:
          'Schedule a run: the body is a pipeline, or {"pipeline": ..., "params": {...}} (JSON or YAML, by Content-Type)',
        tags: ['runs'],
        response: { ...run202, ...errorResponses(400, 413, 415, 503) },
      },
      handler: async (request, reply) => {
        const { pipeline, params } = parseSubmission(request, options.maxJobsPerPipeline);
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
          .send(runView(submitted.run, { withPipeline: false }));
      },
    },
    GET: {
      schema: {
        summary: 'List runs, newest first, optionally filtered',
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
          },
        },
        response: { 200: { $ref: 'RunList#' }, ...errorResponses(400, 503) },
      },
      handler: async (request) => {
        const query = request.query as {
          limit: number;
          continue?: string;
          status?: RunStatus;
          name?: string;
          selector?: string;
        };
        const after = query.continue === undefined ? undefined : decodeContinue(query.continue);
        if (query.continue !== undefined && after === undefined) {
          throw new HttpError(400, 'continue: not a token returned by this API');
        }
        const selector = query.selector === undefined ? undefined : parseSelector(query.selector);
        if (selector && !selector.ok) throw new HttpError(400, `selector: ${selector.error}`);
        const page = await runs.list(query.limit, after, {
          status: query.status,
          name: query.name,
          selector: selector?.requirements,
        });
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

  resource(app, '/api/runs/counts', {
    GET: {
      schema: {
        summary: 'How many runs are in each status',
        tags: ['runs'],
        response: errorResponses(503),
      },
      handler: async () => ({ kind: 'RunCounts', counts: await runs.counts() }),
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
        response: { ...run202, ...errorResponses(404, 409, 503) },
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const result = await transitions.cancelRun(uid, 'canceled by request', Date.now());
        if (result.code === 'missing') throw new HttpError(404, `run ${uid} not found`);
        if (result.code === 'ended')
          throw new HttpError(409, `run ${uid} already ended (${result.status})`);
        if (result.running.length > 0) await options.redis.publish(options.keys.cancelChannel, uid);
        return reply.code(202).send(await accepted(uid));
      },
    },
  });

  resource(app, '/api/runs/:uid/retry', {
    POST: {
      schema: {
        summary:
          'Retry an ended run in place: its FAILED, SKIPPED and CANCELED jobs run again as new attempts; SUCCESSFUL ones are kept',
        tags: ['runs'],
        params: uidParams,
        response: { ...run202, ...errorResponses(404, 409, 503) },
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const result = await transitions.retryRun(uid, Date.now());
        if (result.code === 'missing') throw new HttpError(404, `run ${uid} not found`);
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
        summary: 'Submit a new run of the same pipeline with the same parameters',
        tags: ['runs'],
        params: uidParams,
        response: { ...run202, ...errorResponses(404, 503) },
      },
      handler: async (request, reply) => {
        const previous = await mustGetRun(runs, runUid(request));
        const submitted = await submitter.submit(
          previous.pipeline,
          previous.params,
          labelsWithoutSchedule(previous.labels),
        );
        if (!submitted.ok) throw new HttpError(400, submitted.errors.map(formatError).join('; '));
        return reply
          .code(202)
          .header('location', `/api/runs/${submitted.uid}`)
          .send(runView(submitted.run, { withPipeline: false }));
      },
    },
  });
}
