/**
 * Moving a job's artifacts between its working directory and the store: its declared paths
 * stored after a successful end (a file as its bytes, a directory as a tar stream), its inputs
 * placed before it starts. Everything streams, or is copied by the kernel when the store is on
 * this machine: memory does not grow with an artifact's size.
 */
import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create as packTar, extract as unpackTar } from 'tar';
import type { ArtifactInput, ArtifactRecord, ArtifactSpec } from '../core/artifacts.ts';
import type { ArtifactKey, ArtifactStore } from './store.ts';
import { ArtifactTooLargeError } from './store.ts';

/** What a deployment allows (CHAINR_ARTIFACT_MAX_BYTES, CHAINR_ARTIFACT_RUN_MAX_BYTES). */
export interface ArtifactLimits {
  /** Bytes of one stored artifact (a directory's tar stream). */
  perArtifact: number;
  /** Bytes of all the artifacts of one run. */
  perRun: number;
}

export const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = {
  perArtifact: 1024 ** 3,
  perRun: 10 * 1024 ** 3,
};

/** The run's count of stored artifact bytes (kept with the run). */
export interface RunArtifactBytes {
  used(uid: string): Promise<number>;
  /** Adds `delta` (negative to give back) and answers the new count. */
  add(uid: string, delta: number): Promise<number>;
}

/** An input with the record of the attempt that stored it. */
export interface PlacedInput extends ArtifactInput {
  record: ArtifactRecord;
}

/** A tar archive with no entry: its end, two zero blocks of 512 bytes. */
const EMPTY_TAR_BYTES = 1024;

/** A declared artifact, opened for storing: a file as it is, a directory as a tar stream. */
export type OpenedArtifact =
  { kind: 'file'; file: FileHandle } | { kind: 'directory'; body: Readable };

/**
 * The file or directory at `path` inside `workDir`, opened for storing. Symbolic links are
 * followed only while they stay inside the working directory (a job cannot have the worker
 * read files of its own); inside a directory they are stored as links. What is checked is what
 * was opened: a process the job left behind that swaps a directory of the path for a link
 * between the check and the open (the worker may be root, the job not) leads nowhere else, and a
 * directory is packed from its open descriptor.
 */
export async function openArtifact(workDir: string, path: string): Promise<OpenedArtifact> {
  const root = await realpath(workDir);
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  const real = await realpath(join(root, path)).catch(() => undefined);
  if (real === undefined) throw new Error(`${path} does not exist`);
  if (!inside(real)) throw new Error(`${path} leads outside the job's working directory`);
  // O_NONBLOCK: a FIFO is refused below instead of blocking the open until a writer comes.
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    // Where the kernel resolved it (Linux): the path itself may have changed since its check.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && !inside(opened))
      throw new Error(`${path} leads outside the job's working directory`);
    const info = await handle.stat();
    if (info.isFile()) return { kind: 'file', file: handle };
    if (!info.isDirectory()) throw new Error(`${path} is neither a file nor a directory`);
    // Its entries, each `./<name>`, read through the descriptor (the directory itself, as `.`,
    // would be read as the descriptor's link); an empty one is an empty archive.
    const cwd = opened === undefined ? real : `/proc/self/fd/${handle.fd}`;
    const entries = (await readdir(cwd)).map((name) => `./${name}`);
    const body =
      entries.length === 0
        ? Readable.from([Buffer.alloc(EMPTY_TAR_BYTES)])
        : Readable.from(packTar({ cwd, portable: true, follow: false }, entries), {
            objectMode: false,
          });
    body.once('close', () => void handle.close());
    return { kind: 'directory', body };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Stores an opened artifact, and lets go of it whatever happens. */
async function storeOpened(
  store: ArtifactStore,
  key: ArtifactKey,
  opened: OpenedArtifact,
  maxBytes: number,
): Promise<{ size: number; sha256: string }> {
  if (opened.kind === 'directory') {
    return store.put(key, opened.body, maxBytes).catch((err: unknown) => {
      opened.body.destroy();
      throw err;
    });
  }
  try {
    return await (store.putFile
      ? store.putFile(key, opened.file, maxBytes)
      : store.put(key, opened.file.createReadStream({ autoClose: false }), maxBytes));
  } finally {
    await opened.file.close();
  }
}

/** Unpacks a directory artifact's tar stream into `dest` (made if missing). */
export async function unpackInto(body: Readable, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    // strict: a damaged archive is an error, not a warning; paths stay under dest (tar's default).
    const unpack = unpackTar({ cwd: dest, strict: true, preserveOwner: false });
    unpack.on('error', reject);
    unpack.on('finish', () => resolve());
    body.on('error', reject);
    body.pipe(unpack);
  });
}

/** Says which limit an artifact went over. */
function tooLarge(name: string, limits: ArtifactLimits, used: number) {
  return used + limits.perArtifact <= limits.perRun
    ? `artifact "${name}" is larger than the limit of ${limits.perArtifact} bytes per artifact (CHAINR_ARTIFACT_MAX_BYTES)`
    : `artifact "${name}" takes the run's artifacts over the limit of ${limits.perRun} bytes per run (CHAINR_ARTIFACT_RUN_MAX_BYTES; ${used} bytes stored before it)`;
}

/** One attempt, as artifacts are keyed. */
export interface AttemptKey {
  uid: string;
  job: string;
  attempt: number;
}

/** Places each input at `<dir>/<from>/<name>`. */
export async function placeArtifacts(
  store: ArtifactStore,
  uid: string,
  receives: readonly PlacedInput[],
  dir: string,
): Promise<void> {
  for (const { from, name, record } of receives) {
    const key = { uid, job: from, attempt: record.attempt, name };
    const dest = join(dir, from, name);
    await mkdir(join(dir, from), { recursive: true });
    if (record.kind === 'file' && store.copyOut) {
      await store.copyOut(key, dest);
      continue;
    }
    const { body } = await store.get(key);
    if (record.kind === 'directory') await unpackInto(body, dest);
    else await pipeline(body, createWriteStream(dest, { flags: 'wx' }));
  }
}

/**
 * Stores the declared artifacts found under `workDir`, each within the per-artifact limit and
 * what the run's limit leaves after `used` bytes; throws, saying which and why, when one is
 * missing or too large. The run's count is not changed (JobArtifacts.admit).
 */
export async function storeArtifacts(
  store: ArtifactStore,
  attempt: AttemptKey,
  produces: readonly ArtifactSpec[],
  workDir: string,
  limits: ArtifactLimits,
  used: number,
): Promise<ArtifactRecord[]> {
  const records: ArtifactRecord[] = [];
  let total = 0;
  for (const { name, path } of produces) {
    const left = Math.max(0, limits.perRun - used - total);
    const opened = await openArtifact(workDir, path).catch((err: Error) => {
      throw new Error(`artifact "${name}": ${err.message}`);
    });
    const key = { ...attempt, name };
    const stored = await storeOpened(store, key, opened, Math.min(limits.perArtifact, left)).catch(
      (err: unknown) => {
        if (err instanceof ArtifactTooLargeError)
          throw new Error(tooLarge(name, limits, used + total));
        throw new Error(`artifact "${name}" could not be stored: ${(err as Error).message}`);
      },
    );
    total += stored.size;
    records.push({ name, kind: opened.kind, ...stored, attempt: attempt.attempt });
  }
  return records;
}

/** One attempt's artifacts: what it produces and what it receives. */
export class JobArtifacts {
  constructor(
    private readonly store: ArtifactStore,
    readonly attempt: AttemptKey,
    readonly produces: ArtifactSpec[],
    readonly receives: PlacedInput[],
    readonly limits: ArtifactLimits,
    private readonly runBytes: RunArtifactBytes,
  ) {}

  get hasInputs(): boolean {
    return this.receives.length > 0;
  }

  get paths(): string[] {
    return this.produces.map((p) => p.path);
  }

  /** Places each input at `<dir>/<from>/<name>`. */
  placeInputs(dir: string): Promise<void> {
    return placeArtifacts(this.store, this.attempt.uid, this.receives, dir);
  }

  /** Bytes the run's artifacts take so far. */
  usedByRun(): Promise<number> {
    return this.runBytes.used(this.attempt.uid);
  }

  /**
   * Stores the declared artifacts found under the job's working directory, within the limits;
   * throws, saying which and why, when one is missing or too large.
   */
  async storeOutputs(workDir: string): Promise<ArtifactRecord[]> {
    const used = this.produces.length > 0 ? await this.usedByRun() : 0;
    const records = await storeArtifacts(
      this.store,
      this.attempt,
      this.produces,
      workDir,
      this.limits,
      used,
    );
    await this.admit(records);
    return records;
  }

  /**
   * Counts stored artifacts into the run's bytes; throws (and counts nothing) when that takes
   * the run over its limit.
   */
  async admit(records: readonly ArtifactRecord[]): Promise<void> {
    const total = records.reduce((sum, r) => sum + r.size, 0);
    if (total === 0) return;
    const { uid } = this.attempt;
    // Jobs of the run storing at the same time are counted here, whichever ends first.
    const after = await this.runBytes.add(uid, total);
    if (after > this.limits.perRun) {
      await this.runBytes.add(uid, -total);
      throw new Error(
        `the run's artifacts would take ${after} bytes, more than the limit of ${this.limits.perRun} bytes per run (CHAINR_ARTIFACT_RUN_MAX_BYTES)`,
      );
    }
  }
}
