/**
 * The embedded artifact store: one file per artifact under a root (by default
 * `<data directory>/artifacts`), `<uid>/<job>/<attempt>/<name>`. A file is written under a
 * temporary name beside its place and renamed there once whole, so a reader finds it whole or
 * not at all. The root's run directories (`<uid>`) are removed with their runs by recycle.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactKey, ArtifactStore, ByteRange, StoredArtifact } from './store.ts';
import { ArtifactNotFoundError, ByteMeter, keyPath } from './store.ts';

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
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // Never a name an artifact has: keyPath's names start with a letter or a digit.
    const partial = join(dirname(path), `.partial-${randomBytes(8).toString('hex')}`);
    const meter = new ByteMeter(maxBytes);
    try {
      await pipeline(body, meter, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    return { size: meter.bytes, sha256: meter.digest() };
  }

  async get(key: ArtifactKey, range?: ByteRange): Promise<StoredArtifact> {
    const path = this.pathOf(key);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new ArtifactNotFoundError(key);
    const body = createReadStream(path, range ?? {});
    return { body, size: info.size };
  }
}
