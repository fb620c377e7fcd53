/** A job's artifacts: listed from its record, downloaded from the artifact store (with ranges). */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ArtifactListSchema, ErrorSchema, type ArtifactList } from '../../api/wire.ts';
import type { ArtifactRecord } from '../../core/artifacts.ts';
import type { ByteRange } from '../../artifacts/store.ts';
import { ArtifactNotFoundError } from '../../artifacts/store.ts';
import { HttpError, resource } from '../../http/errors.ts';
import { mustGetRun, runUid, type SchedContext } from './lookup.ts';
import { answer, errorResponses, uidParams } from './schemas.ts';

const jobParams = {
  type: 'object',
  properties: { ...uidParams.properties, name: { type: 'string' } },
  required: ['uid', 'name'],
} as const;

/**
 * The range a `Range` header asks for, within `size` bytes: undefined for the whole (no header,
 * or one this does not serve: several ranges, other units), 'unsatisfiable' for one outside it.
 */
/** A download's answer: a file's bytes or a directory's tar archive, with its headers. */
const download = (description: string, headers: Record<string, unknown>) => ({
  description,
  headers: {
    'content-length': { type: 'string', description: 'Bytes in this answer', required: true },
    'content-disposition': { type: 'string', description: 'attachment; filename="<name>"' },
    'accept-ranges': { type: 'string', description: 'bytes' },
    etag: { type: 'string', description: "The artifact's sha256, quoted" },
    ...headers,
  },
  content: {
    'application/octet-stream': {
      schema: { type: 'string', contentMediaType: 'application/octet-stream' },
    },
    'application/x-tar': { schema: { type: 'string', contentMediaType: 'application/x-tar' } },
  },
});

export function requestedRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // The last n bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export function registerArtifacts(app: FastifyInstance, { history, options }: SchedContext): void {
  const recordsOf = async (uid: string, name: string): Promise<ArtifactRecord[]> => {
    const run = await mustGetRun(history, uid);
    const job = run.jobs.find((j) => j.name === name);
    if (!job) throw new HttpError(404, `run ${uid} has no job "${name}"`);
    return job.artifacts ?? [];
  };

  resource(app, '/api/runs/:uid/jobs/:name/artifacts', {
    GET: {
      schema: {
        operationId: 'listJobArtifacts',
        summary: 'The artifacts a job stored (none until its attempt ends SUCCESSFUL)',
        tags: ['artifacts'],
        params: jobParams,
        response: { 200: answer(ArtifactListSchema, 'The artifacts'), ...errorResponses(404, 503) },
      },
      handler: async (request): Promise<ArtifactList> => {
        const { name } = request.params as { name: string };
        return { items: await recordsOf(runUid(request), name) };
      },
    },
  });

  resource(app, '/api/runs/:uid/jobs/:name/artifacts/:artifact', {
    GET: {
      schema: {
        operationId: 'getJobArtifact',
        summary:
          'Download an artifact: a file as its bytes (application/octet-stream), a directory as a tar archive (application/x-tar); one byte range (Range: bytes=a-b) is served',
        tags: ['artifacts'],
        params: {
          ...jobParams,
          properties: { ...jobParams.properties, artifact: { type: 'string' } },
          required: [...jobParams.required, 'artifact'],
        },
        response: {
          200: download('The artifact', {}),
          206: download('The range asked for', {
            'content-range': { type: 'string', description: 'bytes a-b/size', required: true },
          }),
          ...errorResponses(404, 503),
          416: Type.Ref(ErrorSchema, {
            description: 'The range asked for is outside the artifact',
            headers: { 'content-range': { type: 'string', description: 'bytes */size' } },
          }),
        },
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const { name, artifact } = request.params as { name: string; artifact: string };
        const record = (await recordsOf(uid, name)).find((r) => r.name === artifact);
        if (!record)
          throw new HttpError(404, `job "${name}" of run ${uid} has no artifact "${artifact}"`);
        const store = options.artifacts;
        if (!store) throw new HttpError(503, 'this API has no artifact store configured');
        const range = requestedRange(request.headers.range, record.size);
        if (range === 'unsatisfiable') {
          void reply.header('content-range', `bytes */${record.size}`);
          throw new HttpError(
            416,
            `the range ${request.headers.range} is outside the artifact's ${record.size} bytes`,
          );
        }
        const key = { uid, job: name, attempt: record.attempt, name: artifact };
        const stored = await store.get(key, range).catch((err: unknown) => {
          if (err instanceof ArtifactNotFoundError)
            throw new HttpError(
              404,
              `artifact "${artifact}" of job "${name}" is recorded but no longer stored`,
            );
          throw err;
        });
        const file = record.kind === 'directory' ? `${artifact}.tar` : artifact;
        void reply
          .type(record.kind === 'directory' ? 'application/x-tar' : 'application/octet-stream')
          .header('content-disposition', `attachment; filename="${file}"`)
          .header('accept-ranges', 'bytes')
          .header('etag', `"${record.sha256}"`);
        if (range) {
          void reply
            .code(206)
            .header('content-range', `bytes ${range.start}-${range.end}/${stored.size}`)
            .header('content-length', range.end - range.start + 1);
        } else {
          void reply.header('content-length', stored.size);
        }
        return reply.send(stored.body);
      },
    },
  });
}
