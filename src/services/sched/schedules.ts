/** The schedules resource: cron schedules that submit runs of a pipeline. */
import { Type } from '@sinclair/typebox';
import { CronExpressionParser } from 'cron-parser';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ScheduleListSchema,
  ScheduleSchema,
  type Schedule,
  type ScheduleList,
} from '../../api/wire.ts';
import { resolveParams } from '../../core/params.ts';
import { formatError } from '../../core/validate.ts';
import type { PipelineParser } from './parser.ts';
import type { RunHistory } from './history.ts';
import type { ScheduleRecord, ScheduleStore } from '../../store/schedules.ts';
import { SCHEDULE_LABEL } from './schedule-ticks.ts';
import { HttpError, resource } from '../../http/errors.ts';
import { bodyFormat } from './lookup.ts';
import { answer, created, errorResponses } from './schemas.ts';
import { isUid } from './views.ts';

const idParams = Type.Object(
  { id: Type.String({ description: 'The schedule id' }) },
  { additionalProperties: false },
);

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** How many of a schedule's next run times its view lists. */
const NEXT_RUNS = 3;

/** The times of the next runs, the first at `next` (the scheduler's own next tick). */
function nextRuns(s: ScheduleRecord, next: number | undefined): string[] | undefined {
  if (next === undefined) return undefined;
  try {
    const interval = CronExpressionParser.parse(s.cron, {
      tz: s.timezone,
      strict: false,
      currentDate: new Date(next - 1),
    });
    return interval.take(NEXT_RUNS).map((d) => d.toDate().toISOString());
  } catch {
    return undefined; // checked when the schedule was created: a record changed by hand
  }
}

/** Where a schedule's view reads from. */
interface ScheduleSources {
  schedules: ScheduleStore;
  /** Live and archived: a schedule's last run may be either. */
  runs: Pick<RunHistory, 'list'>;
}

async function scheduleView(
  { schedules, runs }: ScheduleSources,
  s: ScheduleRecord,
): Promise<Schedule> {
  const [next, last] = await Promise.all([
    s.paused ? undefined : schedules.nextRunAt(s.id),
    runs.list(1, undefined, { selector: [{ key: SCHEDULE_LABEL, op: '=', value: s.id }] }),
  ]);
  const lastRun = last.runs[0];
  return {
    kind: 'Schedule',
    metadata: {
      uid: s.id,
      selfLink: `/api/schedules/${s.id}`,
      name: s.name,
      creationTimestamp: iso(s.createdAt),
    },
    cron: s.cron,
    timezone: s.timezone,
    paused: s.paused,
    nextRunAt: iso(next),
    nextRunsAt: nextRuns(s, next),
    lastRun: lastRun && {
      uid: lastRun.uid,
      status: lastRun.status,
      creationTimestamp: new Date(lastRun.createdAt).toISOString(),
    },
    runs: `/api/runs?selector=chainr.io/schedule=${s.id}`,
    params: s.params,
    pipeline: s.pipeline,
  };
}

/** Why a cron expression or time zone is unusable, or undefined when both are fine. */
function cronProblem(cron: string, timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    return `timezone: unknown time zone "${timezone}" (use an IANA name such as "Europe/Paris" or "UTC")`;
  }
  try {
    CronExpressionParser.parse(cron, { tz: timezone, strict: false });
  } catch (err) {
    return `cron: "${cron}" is not a cron expression (${err instanceof Error ? err.message : String(err)}); use 5 fields (minute hour day month weekday) or 6 with seconds first`;
  }
  return undefined;
}

async function parseScheduleBody(request: FastifyRequest, parser: PipelineParser, maxJobs: number) {
  const text = typeof request.body === 'string' ? request.body : '';
  if (text.trim() === '')
    throw new HttpError(400, 'request body is empty: send {cron, pipeline, ...}');
  const result = await parser.parse(text, bodyFormat(request.headers['content-type'], text), {
    maxJobs,
    submission: true,
    envelopeKeys: ['cron', 'timezone', 'name'],
  });
  if (!result.ok) {
    throw new HttpError(
      400,
      `invalid schedule: ${result.errors.map(formatError).join('; ')}`,
      result.errors,
    );
  }
  const { cron, timezone = 'UTC', name } = result.envelope ?? {};
  if (typeof cron !== 'string') throw new HttpError(400, 'cron: is required, e.g. "*/5 * * * *"');
  if (typeof timezone !== 'string') throw new HttpError(400, 'timezone: must be a string');
  if (name !== undefined && typeof name !== 'string')
    throw new HttpError(400, 'name: must be a string');
  const problem = cronProblem(cron, timezone);
  if (problem) throw new HttpError(400, problem);
  const params = resolveParams(result.pipeline, result.params);
  if (!params.ok)
    throw new HttpError(400, params.errors.map(formatError).join('; '), params.errors);
  return { pipeline: result.pipeline, params: result.params ?? {}, cron, timezone, name };
}

function scheduleId(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  if (!isUid(id)) throw new HttpError(404, `schedule ${id} not found`);
  return id;
}

export function registerSchedules(
  app: FastifyInstance,
  sources: ScheduleSources,
  parser: PipelineParser,
  maxJobs: number,
): void {
  const { schedules } = sources;
  const found = async (id: string, s: ScheduleRecord | undefined) => {
    if (!s) throw new HttpError(404, `schedule ${id} not found`);
    return scheduleView(sources, s);
  };

  resource(app, '/api/schedules', {
    POST: {
      schema: {
        operationId: 'createSchedule',
        summary:
          'Create a schedule: {"cron": "0 3 * * *", "timezone": "Europe/Paris", "name": ..., "pipeline": ..., "params": {...}}',
        tags: ['schedules'],
        response: {
          201: created(ScheduleSchema, 'The schedule', 'The path of the new schedule'),
          ...errorResponses(400, 413, 415, 503),
        },
      },
      handler: async (request, reply) => {
        const fields = await parseScheduleBody(request, parser, maxJobs);
        const created = await schedules.create(fields, Date.now());
        return reply
          .code(201)
          .header('location', `/api/schedules/${created.id}`)
          .send(await scheduleView(sources, created));
      },
    },
    GET: {
      schema: {
        operationId: 'listSchedules',
        summary: 'Every schedule, newest first',
        tags: ['schedules'],
        response: { 200: answer(ScheduleListSchema, 'The schedules'), ...errorResponses(503) },
      },
      handler: async (): Promise<ScheduleList> => ({
        kind: 'ScheduleList',
        metadata: { selfLink: '/api/schedules' },
        items: await Promise.all((await schedules.list()).map((s) => scheduleView(sources, s))),
      }),
    },
  });

  resource(app, '/api/schedules/:id', {
    GET: {
      schema: {
        operationId: 'getSchedule',
        summary: 'A schedule',
        tags: ['schedules'],
        params: idParams,
        response: { 200: answer(ScheduleSchema, 'The schedule'), ...errorResponses(404, 503) },
      },
      handler: async (request) => {
        const id = scheduleId(request);
        return found(id, await schedules.get(id));
      },
    },
    DELETE: {
      schema: {
        operationId: 'deleteSchedule',
        summary: 'Delete a schedule (its runs stay)',
        tags: ['schedules'],
        params: idParams,
        response: {
          200: answer(ScheduleSchema, 'The schedule as it was'),
          ...errorResponses(404, 503),
        },
      },
      handler: async (request) => {
        const id = scheduleId(request);
        return found(id, await schedules.delete(id));
      },
    },
  });

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    resource(app, `/api/schedules/:id/${action}`, {
      POST: {
        schema: {
          operationId: `${action}Schedule`,
          summary: paused
            ? 'Pause a schedule: no run is created until it is resumed'
            : 'Resume a paused schedule',
          tags: ['schedules'],
          params: idParams,
          response: {
            200: answer(ScheduleSchema, paused ? 'The schedule, paused' : 'The schedule, resumed'),
            ...errorResponses(404, 503),
          },
        },
        handler: async (request) => {
          const id = scheduleId(request);
          return found(id, await schedules.setPaused(id, paused));
        },
      },
    });
  }
}
