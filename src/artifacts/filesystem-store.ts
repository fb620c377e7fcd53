/**
 * The embedded artifact store: one file per artifact under a root (by default
 * `<data directory>/artifacts`), `<uid>/<job>/<attempt>/<name>`. A file is written under a
 * temporary name in a directory of the run's that only the worker can enter, then renamed to its place once whole
 * and given its final mode, so a reader finds it whole or not at all. A job's file is copied in
 * by the kernel while it is hashed, and copied out the same way: a reflink where the filesystem
 * has them (Btrfs, XFS: a copy that shares the blocks until either side writes), else
 * copy_file_range. The root's run directories (`<uid>`) are removed with their runs by recycle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactKey, ArtifactStore, ByteRange, StoredArtifact } from './store.ts';
import { ArtifactNotFoundError, ArtifactTooLargeError, ByteMeter, keyPath } from './store.ts';

/** Where a run's files are written before they are whole: never a job's name (keyPath). */
const INCOMING = '.incoming';
/**
 * A stored file's mode, whatever the job's was: a copy keeps its source's mode (set-user-ID bits
 * included), and the worker may be root.
 */
const STORED_MODE = 0o644;
/** The open file of a descriptor, by path, for the kernel's copy (Linux). */
const OPEN_FILES = '/proc/self/fd';
/**
 * The kernel's copy: a reflink where the filesystem can make one, else a copy. Never a link to
 * the same file: what the job or a dependent writes to its copy must not reach the stored one.
 */
const COPY_FLAGS = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
/**
 * Bytes read at a time to hash a file, into one buffer used again and again: a stream's fresh
 * buffer per chunk cost as much again as the sha256 itself (256 MiB: 330-560 ms against 190-260).
 */
const HASH_READ_BYTES = 4 * 1024 ** 2;

/** The sha256 of `file`'s bytes from its start, and how many there were. */
async function hashOf(file: FileHandle): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, bytes);
    if (bytesRead === 0) return { sha256: hash.digest('hex'), bytes };
    hash.update(buffer.subarray(0, bytesRead));
    bytes += bytesRead;
  }
}

export class FilesystemArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The file an artifact is kept in. */
  pathOf(key: ArtifactKey): string {
    return join(this.root, keyPath(key));
  }

  async put(key: ArtifactKey, body: Readable, maxBytes: number) {
    const meter = new ByteMeter(maxBytes);
    await this.commit(key, (partial) =>
      pipeline(body, meter, createWriteStream(partial, { flags: 'wx', mode: STORED_MODE })),
    );
    return { size: meter.bytes, sha256: meter.digest() };
  }

  async putFile(key: ArtifactKey, file: FileHandle, maxBytes: number) {
    if (!existsSync(OPEN_FILES)) return this.put(key, file.createReadStream(), maxBytes);
    const { size } = await file.stat();
    if (size > maxBytes) throw new ArtifactTooLargeError(maxBytes);
    return this.commit(key, async (partial) => {
      // Both from the descriptor opened and checked, not from a path the job could change.
      const [, hashed] = await Promise.all([
        copyFile(`${OPEN_FILES}/${file.fd}`, partial, COPY_FLAGS),
        hashOf(file),
      ]);
      const copied = (await stat(partial)).size;
      if (hashed.bytes !== size || copied !== size)
        throw new Error(`the file changed while it was stored (${size} bytes, then ${copied})`);
      await chmod(partial, STORED_MODE);
      return { size, sha256: hashed.sha256 };
    });
  }

  async get(key: ArtifactKey, range?: ByteRange): Promise<StoredArtifact> {
    const path = await this.existing(key);
    const { size } = await stat(path);
    return { body: createReadStream(path, range ?? {}), size };
  }

  async copyOut(key: ArtifactKey, dest: string): Promise<void> {
    await copyFile(await this.existing(key), dest, COPY_FLAGS);
  }

  private async existing(key: ArtifactKey): Promise<string> {
    const path = this.pathOf(key);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new ArtifactNotFoundError(key);
    return path;
  }

  /** Writes the artifact under a temporary name with `write`, then moves it to its place. */
  private async commit<T>(key: ArtifactKey, write: (partial: string) => Promise<T>): Promise<T> {
    const path = this.pathOf(key);
    // In the run's directory: what a crash leaves there goes with the run.
    const incoming = join(this.root, key.uid, INCOMING);
    await mkdir(incoming, { recursive: true, mode: 0o700 });
    await mkdir(dirname(path), { recursive: true });
    const partial = join(incoming, randomBytes(8).toString('hex'));
    try {
      const written = await write(partial);
      await rename(partial, path);
      return written;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }
}
