/**
 * An artifact store in any S3-compatible object store: one object per artifact,
 * `<prefix><uid>/<job>/<attempt>/<name>`. Uploads are multipart, a few parts in flight at once,
 * so memory stays bounded whatever the size; an object appears only once its upload completes
 * (an aborted upload leaves none). Credentials come from the SDK's default chain: the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), a profile, or the pod's identity.
 */
import {
  GetObjectCommand,
  NoSuchKey,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { ArtifactKey, ArtifactStore, ByteRange, StoredArtifact } from './store.ts';
import { ArtifactNotFoundError, ByteMeter, keyPath } from './store.ts';

export interface S3StoreConfig {
  bucket: string;
  /** Prepended to every key (e.g. `chainr/`). */
  prefix: string;
  /** An S3-compatible endpoint (MinIO, Ceph...); undefined: AWS's for the region. */
  endpoint?: string;
  region: string;
  /** Buckets addressed as `<endpoint>/<bucket>` rather than `<bucket>.<endpoint>`. */
  forcePathStyle: boolean;
}

/** Parts of a multipart upload: 8 MiB each, at most 2 in flight (16 MiB buffered at most). */
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;

  constructor(private readonly config: S3StoreConfig) {
    this.client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      // Checksums only where S3 requires them: many S3-compatible servers refuse the SDK's
      // default CRC32 headers. The stored sha256 is computed by chainr on the way anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    });
  }

  private objectKey(key: ArtifactKey): string {
    return `${this.config.prefix}${keyPath(key)}`;
  }

  async put(key: ArtifactKey, body: Readable, maxBytes: number) {
    const meter = new ByteMeter(maxBytes);
    body.on('error', (err) => meter.destroy(err));
    body.pipe(meter);
    // On failure, the upload aborts itself (leavePartsOnError: false): no object appears.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: this.objectKey(key), Body: meter },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      body.destroy();
      // The reason the stream stopped (over the limit, unreadable) rather than the upload's.
      throw meter.errored ?? err;
    }
    return { size: meter.bytes, sha256: meter.digest() };
  }

  async get(key: ArtifactKey, range?: ByteRange): Promise<StoredArtifact> {
    let answer: GetObjectCommandOutput;
    try {
      answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.config.bucket,
          Key: this.objectKey(key),
          ...(range && { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey')
        throw new ArtifactNotFoundError(key);
      throw err;
    }
    // With a range, the whole size is after the '/' of Content-Range.
    const size = range ? Number(answer.ContentRange?.split('/')[1]) : Number(answer.ContentLength);
    return { body: answer.Body as Readable, size };
  }

  close(): void {
    this.client.destroy();
  }
}
