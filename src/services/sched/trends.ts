/**
 * A pipeline's trends: durations of its newest runs, how its runs ended per day, its slowest jobs,
 * aggregated in SQL by the archive over the archived runs and the ended runs still in Redis.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ArchiveStore } from '../../archive/store.ts';
import { MAX_TREND_DAYS, PipelineTrendsSchema, type PipelineTrends } from '../../api/wire.ts';
import { HttpError, resource } from '../../http/errors.ts';
import type { RunStore } from '../../store/runs.ts';
import { answer, errorResponses } from './schemas.ts';

/**
 * The newest runs of the pipeline read from Redis, ended or not: those not archived yet (within
 * the archive window, 24 h by default) count, the older ones of a busier pipeline do not.
 */
export const LIVE_TREND_RUNS = 1000;
const DEFAULT_TREND_DAYS = 14;

export interface TrendsContext {
  runs: RunStore;
  /** Where the trends are aggregated: the archive, or an empty one for the live runs alone. */
  archive: () => Promise<ArchiveStore>;
  /** Whether `archive` is the configured archive (false: an empty one in memory). */
  archived: boolean;
}

const trendParams = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 253,
      description: "The pipeline's metadata.name",
    }),
  },
  { additionalProperties: false },
);

export function registerTrends(app: FastifyInstance, ctx: TrendsContext): void {
  resource(app, '/api/pipelines/:name/trends', {
    GET: {
      schema: {
        operationId: 'getPipelineTrends',
        summary:
          "A pipeline's trends over the last days: its runs' durations, how they ended per day, its slowest jobs",
        tags: ['runs'],
        params: trendParams,
        querystring: Type.Object(
          {
            days: Type.Integer({
              minimum: 1,
              maximum: MAX_TREND_DAYS,
              default: DEFAULT_TREND_DAYS,
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: answer(PipelineTrendsSchema, 'The trends'),
          ...errorResponses(400, 503),
        },
      },
      handler: async (request): Promise<PipelineTrends> => {
        const { name } = request.params as { name: string };
        const { days } = request.query as { days: number };
        const live = await ctx.runs.list(LIVE_TREND_RUNS, undefined, { name });
        const trends = await ctx
          .archive()
          .then((archive) => archive.trends(name, { days, now: Date.now(), live: live.runs }))
          .catch((err: unknown) => {
            request.log.warn({ err }, 'archive query failed');
            throw new HttpError(503, 'the archive is unavailable; try again shortly');
          });
        const iso = (ms: number) => new Date(ms).toISOString();
        return {
          kind: 'PipelineTrends',
          metadata: { selfLink: `/api/pipelines/${encodeURIComponent(name)}/trends`, name },
          days,
          archived: ctx.archived,
          runs: trends.runs.map((r) => ({
            ...r,
            createdAt: iso(r.createdAt),
            finishedAt: iso(r.finishedAt),
          })),
          daily: trends.days,
          slowestJobs: trends.slowestJobs,
        };
      },
    },
  });
}
