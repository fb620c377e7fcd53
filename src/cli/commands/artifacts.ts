/** `chainr artifacts get UID JOB [NAME] -o DIR`: saves a job's artifacts (directories unpacked). */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { Artifact } from '../../api/wire.ts';
import { unpackInto } from '../../artifacts/transfer.ts';
import type { ChainrClient } from '../../api/client.ts';
import type { CliContext } from '../context.ts';
import { action, CliError, EXIT, makeClient } from '../context.ts';
import { serverOption } from './common.ts';
import { resolveUid } from '../uids.ts';

/** Passes bytes through, hashing them. */
function hasher() {
  const hash = createHash('sha256');
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/**
 * Downloads one artifact into `dir`: a file to `<dir>/<name>`, a directory unpacked into
 * `<dir>/<name>/`. Written beside its place and moved there once its sha256 matches the record.
 */
async function save(
  client: ChainrClient,
  uid: string,
  job: string,
  artifact: Artifact,
  dir: string,
  signal: AbortSignal,
): Promise<string> {
  const dest = join(dir, artifact.name);
  const partial = join(dir, `.${artifact.name}.partial`);
  const body = Readable.fromWeb(await client.artifact(uid, job, artifact.name, signal));
  const hash = hasher();
  try {
    if (artifact.kind === 'directory') {
      await Promise.all([pipeline(body, hash.stream), unpackInto(hash.stream, partial)]);
    } else {
      await pipeline(body, hash.stream, createWriteStream(partial));
    }
    const sha256 = hash.digest();
    if (sha256 !== artifact.sha256)
      throw new CliError(
        `${artifact.name}: the bytes received have sha256 ${sha256}, not ${artifact.sha256} as recorded`,
      );
    await rm(dest, { recursive: true, force: true });
    await rename(partial, dest);
    return dest;
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
}

export function registerArtifacts(program: Command, ctx: CliContext): void {
  const artifacts = program.command('artifacts').description("A job's artifacts");
  artifacts
    .command('get')
    .description("Save a job's artifacts, or one of them, into a directory")
    .argument('<uid>', 'the run: its uid, or its first or last characters')
    .argument('<job>', 'the job that stored them')
    .argument('[name]', "one artifact; all of the job's when left out")
    .option('-o, --output <dir>', 'where to save them (made if missing)', '.')
    .addOption(serverOption())
    .addHelpText(
      'after',
      `
A file is saved as <dir>/<name>; a directory is unpacked into <dir>/<name>/. Each is checked
against the sha256 recorded when it was stored.

Examples:
  chainr artifacts get 0190a1b2-... extract -o out/
  chainr artifacts get 0190a1b2-... extract sales -o out/`,
    )
    .action(
      action(
        ctx,
        async (
          given: string,
          job: string,
          name: string | undefined,
          options: { output: string },
          command: Command,
        ) => {
          const client = makeClient(ctx, command);
          const uid = await resolveUid(client, given);
          const { items } = await client.listArtifacts(uid, job);
          const chosen = name === undefined ? items : items.filter((a) => a.name === name);
          if (chosen.length === 0) {
            const has = items.map((a) => a.name).join(', ') || 'none';
            throw new CliError(
              name === undefined
                ? `job "${job}" of run ${uid} stored no artifacts`
                : `job "${job}" of run ${uid} has no artifact "${name}" (it has: ${has})`,
            );
          }
          const dir = resolve(options.output);
          await mkdir(dir, { recursive: true });
          for (const artifact of chosen) {
            const path = await save(client, uid, job, artifact, dir, ctx.interrupt.signal);
            const what = artifact.kind === 'directory' ? 'directory' : 'file';
            ctx.stdout.write(
              `${artifact.name}: ${what}, ${artifact.size} bytes, saved to ${path}\n`,
            );
          }
          return EXIT.ok;
        },
      ),
    );
}
