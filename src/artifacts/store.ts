/**
 * Where artifacts are kept: the interface every store implements, and the byte meter they share
 * (counted and hashed on the way through, refused past a limit, never held whole in memory).
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';

/** One artifact of one attempt. */
export interface ArtifactKey {
  uid: string;
  job: string;
  attempt: number;
  name: string;
}

/** Bytes `start` to `end` inclusive, as an HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredArtifact {
  body: Readable;
  /** The whole artifact's size, whatever range was asked for. */
  size: number;
}

export interface ArtifactStore {
  /**
   * Stores `body` under `key`, at most `maxBytes` of it: written under a temporary name and
   * committed whole (a reader never sees part of it), or not at all (ArtifactTooLargeError when
   * over the limit). Resolves with what was stored.
   */
  put(
    key: ArtifactKey,
    body: Readable,
    maxBytes: number,
  ): Promise<{ size: number; sha256: string }>;
  /**
   * As put, for a regular file open as `file` (a store on this machine copies it without
   * streaming it through the process). The caller closes `file`.
   */
  putFile?(
    key: ArtifactKey,
    file: FileHandle,
    maxBytes: number,
  ): Promise<{ size: number; sha256: string }>;
  /** The artifact, or the range of it; ArtifactNotFoundError when there is none. */
  get(key: ArtifactKey, range?: ByteRange): Promise<StoredArtifact>;
  /** Copies a file artifact to `dest`, which must not exist (a store on this machine). */
  copyOut?(key: ArtifactKey, dest: string): Promise<void>;
  /** Releases its connections (the service is stopping). */
  close?(): void;
}

export class ArtifactTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than the limit of ${limit} bytes`);
  }
}

export class ArtifactNotFoundError extends Error {
  constructor(key: ArtifactKey) {
    super(`no artifact "${key.name}" of ${key.job} (attempt ${key.attempt}) of run ${key.uid}`);
  }
}

/** Run uids, job and artifact names as validated: anything else never names a file or an object. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `<uid>/<job>/<attempt>/<name>`: the key's place in a store. */
export function keyPath(key: ArtifactKey): string {
  for (const part of [key.uid, key.job, key.name]) {
    if (!SEGMENT.test(part))
      throw new Error(`not a name an artifact is kept under: ${JSON.stringify(part)}`);
  }
  if (!Number.isSafeInteger(key.attempt) || key.attempt < 1)
    throw new Error(`not an attempt: ${key.attempt}`);
  return `${key.uid}/${key.job}/${key.attempt}/${key.name}`;
}

/** Passes bytes through, counting and hashing them; fails past `limit`. */
export class ByteMeter extends Transform {
  /** Bytes passed so far (not `size`: upload libraries read that as the length to expect). */
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(new ArtifactTooLargeError(this.limit));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** Hex SHA-256 of everything passed, once the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
