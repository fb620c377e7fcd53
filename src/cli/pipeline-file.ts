/**
 * Pipeline files on the command line: read (a path or `-` for stdin), parsed and validated by the
 * same core parser as the API, errors written `file:line:column: path: message` like a compiler's
 * so that editors and CI annotate the right line.
 */
import { readFile } from 'node:fs/promises';
import { formatError, inFileOrder, parsePipeline, validatePipeline } from '../core/validate.ts';
import { formatLocated } from './error-lines.ts';
import type { PipelineFormat } from '../core/validate.ts';
import type { Pipeline } from '../core/types.ts';
import { CliError, EXIT } from './context.ts';

export interface PipelineSource {
  /** The name errors are reported under: the path, or `<stdin>`. */
  name: string;
  text: string;
  format: PipelineFormat;
}

/** JSON by extension, YAML by extension, otherwise JSON when it looks like an object. */
export function detectFormat(name: string, text: string): PipelineFormat {
  if (/\.json$/i.test(name)) return 'json';
  if (/\.ya?ml$/i.test(name)) return 'yaml';
  return text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('{')
    ? 'json'
    : 'yaml';
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a pipeline file; throws an Error worded for the user when it cannot be read. */
export async function readPipelineSource(
  path: string,
  stdin: NodeJS.ReadableStream,
): Promise<PipelineSource> {
  if (path === '-') {
    const text = await readAll(stdin);
    return { name: '<stdin>', text, format: detectFormat('', text) };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new Error(`cannot read ${path}: ${why}`);
  }
  return { name: path, text, format: detectFormat(path, text) };
}

export type Checked = { ok: true; pipeline: Pipeline } | { ok: false; lines: string[] };

/**
 * Parses and validates a pipeline file, with labels merged into `metadata.labels` (they win
 * over the file's). Labels are checked by the schema like any other field, after the merge.
 */
export function checkPipelineSource(
  source: PipelineSource,
  options: { labels?: Record<string, string>; maxJobs?: number } = {},
): Checked {
  const parsed = parsePipeline(source.text, source.format, { maxJobs: options.maxJobs });
  if (!parsed.ok) {
    return {
      ok: false,
      lines: inFileOrder(parsed.errors).map((e) => formatLocated(source.name, e)),
    };
  }
  const labels = options.labels ?? {};
  if (Object.keys(labels).length === 0) return parsed;
  const merged = withLabels(parsed.pipeline, labels);
  const checked = validatePipeline(merged, { maxJobs: options.maxJobs });
  if (!checked.ok) {
    return { ok: false, lines: checked.errors.map((e) => `--label: ${formatError(e)}`) };
  }
  return checked;
}

export function withLabels(pipeline: Pipeline, labels: Record<string, string>): Pipeline {
  const metadata = pipeline.metadata ?? {};
  return { ...pipeline, metadata: { ...metadata, labels: { ...metadata.labels, ...labels } } };
}

/**
 * What a command that sends a pipeline reads first: the file, parsed and validated (any job count:
 * the server applies its own limit), or a CliError saying why not. `refusal` ends its first line.
 */
export async function readValidPipeline(
  path: string,
  stdin: NodeJS.ReadableStream,
  options: { labels?: Record<string, string>; refusal: string },
): Promise<Pipeline> {
  let source;
  try {
    source = await readPipelineSource(path, stdin);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const checked = checkPipelineSource(source, {
    ...(options.labels && { labels: options.labels }),
    maxJobs: Number.MAX_SAFE_INTEGER,
  });
  if (checked.ok) return checked.pipeline;
  const n = checked.lines.length;
  throw new CliError(
    `${source.name} is not a valid pipeline (${n} error${n === 1 ? '' : 's'})${options.refusal}`,
    EXIT.error,
    checked.lines,
  );
}
