/** Schema and graph checks together: every issue of a value, sorted by path. */
import { DEFAULT_MAX_JOBS, graphIssues, sharingDependencyMaps } from './graph.ts';
import type { Issue, Segment } from './issues.ts';
import { isRecord, own } from './issues.ts';
import { sortIssues } from './issues.ts';
import { artifactIssues } from './artifacts.ts';
import { conditionIssues } from './conditions.ts';
import { durationIssues } from './durations.ts';
import { forEachIssues } from './foreach.ts';
import { matrixIssues } from './matrix.ts';
import { outputRefIssues } from './outputs.ts';
import { paramIssues } from './params.ts';
import { schemaIssues } from './schema.ts';

export interface ValidateOptions {
  /** The largest number of jobs a pipeline may have (default 1000). */
  maxJobs?: number;
  /** Also accept a submission `{"pipeline": ..., "params": {...}}` (POST /api/runs). */
  submission?: boolean;
  /** Further fields a submission may carry (e.g. a schedule's `cron`), returned as they are. */
  envelopeKeys?: string[];
}

/** A submission split into its pipeline and parameters; a bare pipeline has no parameters. */
export function splitSubmission(
  value: unknown,
  options: ValidateOptions,
): { pipeline: unknown; params: unknown; envelope: Record<string, unknown>; at: Segment[] } {
  if (options.submission && isRecord(value) && Object.hasOwn(value, 'pipeline')) {
    const envelope: Record<string, unknown> = {};
    for (const key of options.envelopeKeys ?? [])
      if (Object.hasOwn(value, key)) envelope[key] = value[key];
    return { pipeline: value.pipeline, params: value.params, envelope, at: ['pipeline'] };
  }
  return { pipeline: value, params: undefined, envelope: {}, at: [] };
}

/** Every check of a pipeline document: schema, graph, parameters, output references, artifacts, durations, conditions, matrices. */
function pipelineIssues(value: unknown, options: ValidateOptions): Issue[] {
  return [
    ...schemaIssues(value),
    ...graphIssues(value),
    ...paramIssues(value),
    ...outputRefIssues(value),
    ...artifactIssues(value),
    ...durationIssues(value),
    ...conditionIssues(value),
    ...forEachIssues(value),
    ...matrixIssues(value, options.maxJobs ?? DEFAULT_MAX_JOBS),
  ];
}

function submissionIssues(value: unknown, options: ValidateOptions): Issue[] {
  const { pipeline, params, at } = splitSubmission(value, options);
  if (at.length === 0) return [];
  const issues: Issue[] = [];
  for (const key of Object.keys(value as object)) {
    const allowed = ['pipeline', 'params', ...(options.envelopeKeys ?? [])];
    if (!allowed.includes(key)) {
      issues.push({
        path: [],
        message: `unknown field "${key}" (expected ${allowed.join(', ')})`,
        at: [key],
        atKey: true,
      });
    }
  }
  if (
    params !== undefined &&
    (!isRecord(params) || Object.values(params).some((v) => typeof v !== 'string'))
  ) {
    issues.push({ path: ['params'], message: 'must be an object of strings' });
  }
  const inner = pipelineIssues(pipeline, options);
  return [
    ...issues,
    ...inner.map((i) => ({
      ...i,
      path: [...at, ...i.path],
      ...(i.at && { at: [...at, ...i.at] }),
    })),
  ];
}

/**
 * A pipeline over the job limit, counted before anything is checked per job: it is refused
 * with that one issue, at a cost that does not grow with what it holds.
 */
function jobLimitIssue(value: unknown, options: ValidateOptions): Issue | undefined {
  const { pipeline, at } = splitSubmission(value, options);
  const jobs = isRecord(pipeline) ? own(pipeline, 'jobs') : undefined;
  if (!isRecord(jobs)) return undefined;
  const count = Object.keys(jobs).length;
  const limit = options.maxJobs ?? DEFAULT_MAX_JOBS;
  if (count <= limit) return undefined;
  return { path: [...at, 'jobs'], message: `${count} jobs exceed the limit of ${limit}` };
}

/** All issues of a value as a pipeline; none means it is a valid pipeline. Never throws. */
export function checkPipeline(value: unknown, options: ValidateOptions = {}): Issue[] {
  try {
    const overLimit = jobLimitIssue(value, options);
    if (overLimit) return [overLimit];
    const issues = sharingDependencyMaps(() =>
      splitSubmission(value, options).at.length > 0
        ? submissionIssues(value, options)
        : pipelineIssues(value, options),
    );
    return sortIssues(issues);
  } catch (error) {
    // Only exotic values (proxies, throwing getters) get here; JSON and YAML never do.
    const reason = error instanceof Error ? error.message : String(error);
    return [{ path: [], message: `the pipeline could not be checked: ${reason}` }];
  }
}
