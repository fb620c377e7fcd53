/**
 * Artifacts: files or directories a job declares (`artifacts: [{name, path}]`), stored when it
 * ends SUCCESSFUL, and the ancestors' artifacts a job receives (`inputs.artifacts`). Pure.
 */
import { ancestorsOf, dependencyMap } from './graph.ts';
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';

/** A file or directory a job produces, by name; `path` is relative to its working directory. */
export interface ArtifactSpec {
  name: string;
  path: string;
}

/** An artifact of an ancestor, placed at `$CHAINR_ARTIFACTS/<from>/<name>` before the job starts. */
export interface ArtifactInput {
  from: string;
  name: string;
}

/** A stored artifact, as recorded on the attempt that produced it. */
export interface ArtifactRecord {
  name: string;
  /** A directory is stored as a tar stream of its content; a file as its bytes. */
  kind: 'file' | 'directory';
  /** Bytes stored (the tar stream's, for a directory). */
  size: number;
  /** Hex SHA-256 of the bytes stored. */
  sha256: string;
  /** The attempt that produced it (part of its key in the store). */
  attempt: number;
}

/** Where a job's inputs are placed: `$CHAINR_ARTIFACTS/<from>/<name>`. */
export const ARTIFACTS_ENV = 'CHAINR_ARTIFACTS';

/** Why a declared path cannot be used, or undefined when it is a plain relative path. */
export function artifactPathProblem(path: string): string | undefined {
  if (path.startsWith('/')) return "must be relative to the job's working directory, not absolute";
  if (path.split('/').includes('..'))
    return "must not contain '..': it stays inside the job's working directory";
  if (path.includes('\0')) return 'must not contain a NUL character';
  return undefined;
}

/**
 * Problems of the artifacts of a pipeline document that the schema cannot see: paths leaving the
 * working directory, names declared twice, and inputs that are not an artifact of an ancestor
 * (named with the job's name, as output references are) or that come from a matrix job (whose
 * instances each produce their own).
 */
export function artifactIssues(value: unknown): Issue[] {
  if (!isRecord(value) || !isRecord(value.jobs)) return [];
  const jobs = value.jobs;
  const declared = new Map<string, Set<string>>();
  const issues: Issue[] = [];
  for (const [job, spec] of Object.entries(jobs)) {
    const list = isRecord(spec) ? own(spec, 'artifacts') : undefined;
    if (!Array.isArray(list)) continue;
    const names = new Set<string>();
    list.forEach((item: unknown, i) => {
      if (!isRecord(item)) return;
      const name = own(item, 'name');
      const path = own(item, 'path');
      if (typeof name === 'string') {
        if (names.has(name))
          issues.push({
            path: ['jobs', job, 'artifacts', i, 'name'],
            message: `artifact "${name}" is declared twice`,
          });
        names.add(name);
      }
      const problem = typeof path === 'string' ? artifactPathProblem(path) : undefined;
      if (problem) issues.push({ path: ['jobs', job, 'artifacts', i, 'path'], message: problem });
    });
    declared.set(job, names);
  }
  const deps = dependencyMap(jobs);
  for (const [job, spec] of Object.entries(jobs)) {
    const inputs = isRecord(spec) ? own(spec, 'inputs') : undefined;
    const list = isRecord(inputs) ? own(inputs, 'artifacts') : undefined;
    if (!Array.isArray(list)) continue;
    const ancestors = new Set(ancestorsOf(deps, job));
    const seen = new Set<string>();
    list.forEach((item: unknown, i) => {
      if (!isRecord(item)) return;
      const from = own(item, 'from');
      const name = own(item, 'name');
      if (typeof from !== 'string' || typeof name !== 'string') return;
      const at = ['jobs', job, 'inputs', 'artifacts', i];
      const key = `${from}/${name}`;
      if (seen.has(key)) {
        issues.push({ path: at, message: `artifact "${name}" of "${from}" is listed twice` });
        return;
      }
      seen.add(key);
      if (!ancestors.has(from)) {
        const what = Object.hasOwn(jobs, from)
          ? `job "${from}" is not an ancestor of "${job}"`
          : `unknown job "${from}"`;
        issues.push({
          path: [...at, 'from'],
          message: `${what}: a job receives the artifacts of the jobs it depends on, directly or through others`,
        });
        return;
      }
      const source = jobs[from];
      if (isRecord(source) && own(source, 'matrix') !== undefined) {
        issues.push({
          path: [...at, 'from'],
          message: `"${from}" is a matrix job: its instances each produce their own artifacts, which cannot be told apart here`,
        });
        return;
      }
      const names = declared.get(from);
      if (!names?.has(name)) {
        const has = names && names.size > 0 ? [...names].join(', ') : 'none';
        issues.push({
          path: [...at, 'name'],
          message: `"${from}" declares no artifact "${name}" (it declares ${has})`,
        });
      }
    });
  }
  return issues;
}
