/** Schema and graph checks together: every issue of a value, sorted by path. */
import { graphIssues } from './graph.ts';
import type { Issue } from './issues.ts';
import { sortIssues } from './issues.ts';
import { schemaIssues } from './schema.ts';

export interface ValidateOptions {
  /** The largest number of jobs a pipeline may have (default 1000). */
  maxJobs?: number;
}

/** All issues of a value as a pipeline; none means it is a valid pipeline. Never throws. */
export function checkPipeline(value: unknown, options: ValidateOptions = {}): Issue[] {
  try {
    return sortIssues([...schemaIssues(value), ...graphIssues(value, options.maxJobs)]);
  } catch (error) {
    // Only exotic values (proxies, throwing getters) get here; JSON and YAML never do.
    const reason = error instanceof Error ? error.message : String(error);
    return [{ path: [], message: `the pipeline could not be checked: ${reason}` }];
  }
}
