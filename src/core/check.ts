/** Schema and graph checks together: every issue of a value, sorted by path. */
import { graphIssues } from './graph.ts';
import type { Issue, Segment } from './issues.ts';
import { isRecord } from './issues.ts';
import { sortIssues } from './issues.ts';
import { durationIssues } from './durations.ts';
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

/** Every check of a pipeline document: schema, graph, parameters, durations. */
function pipelineIssues(value: unknown, options: ValidateOptions): Issue[] {
  return [
    ...schemaIssues(value),
    ...graphIssues(value, options.maxJobs),
    ...paramIssues(value),
    ...durationIssues(value),
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

/** All issues of a value as a pipeline; none means it is a valid pipeline. Never throws. */
export function checkPipeline(value: unknown, options: ValidateOptions = {}): Issue[] {
  try {
    if (splitSubmission(value, options).at.length > 0)
      return sortIssues(submissionIssues(value, options));
    return sortIssues(pipelineIssues(value, options));
  } catch (error) {
    // Only exotic values (proxies, throwing getters) get here; JSON and YAML never do.
    const reason = error instanceof Error ? error.message : String(error);
    return [{ path: [], message: `the pipeline could not be checked: ${reason}` }];
  }
}
