/**
 * The S3 artifact store, against s3rver (an S3-compatible server from npm) started by the tests
 * as a process of its own; with CHAINR_TEST_REAL_S3=1 (`npm run test:s3`), against the bucket that
 * CHAINR_ARTIFACTS_S3_* and the AWS SDK's credentials name instead, under a prefix of its own.
 *
 * What s3rver does not cover: AWS's signature and checksum enforcement in full, virtual-hosted
 * bucket addressing, throttling (503 SlowDown) and retries, credentials from a pod's identity,
 * and lifecycle rules. `npm run test:s3` covers them on a real endpoint.
 */
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../src/artifacts/s3-store.ts';
import type { S3StoreConfig } from '../src/artifacts/s3-store.ts';
import { ArtifactNotFoundError, ArtifactTooLargeError } from '../src/artifacts/store.ts';
import { loadConfig } from '../src/config.ts';
import { statuses, waitForEnd, type RunBody } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from './fixtures/s3-server.ts';

const real = process.env.CHAINR_TEST_REAL_S3 === '1';
let s3: TestS3 | undefined;
let config: S3StoreConfig;
let store: S3ArtifactStore;

beforeAll(async () => {
  if (real) {
    const configured = loadConfig(process.env).artifacts.s3;
    if (!configured)
      throw new Error('npm run test:s3 needs CHAINR_ARTIFACTS_S3_BUCKET (and credentials)');
    config = { ...configured, prefix: `${configured.prefix}test-${randomUUID()}/` };
  } else {
    s3 = await startS3();
    // The SDK's default chain reads them from the environment, as a deployment's would be.
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    config = {
      bucket: s3.bucket,
      prefix: 'chainr/',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
    };
  }
  store = new S3ArtifactStore(config);
});

afterAll(async () => {
  store?.close();
  await s3?.stop();
});

/** `size` bytes of a repeating pattern, produced a chunk at a time (never held whole). */
function pattern(size: number): { body: Readable; sha256: string } {
  const chunk = Buffer.alloc(1024 * 1024, 'chainr-');
  const hash = createHash('sha256');
  for (let left = size; left > 0; left -= chunk.length)
    hash.update(chunk.subarray(0, Math.min(left, chunk.length)));
  const body = Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= chunk.length)
        yield chunk.subarray(0, Math.min(left, chunk.length));
    })(),
  );
  return { body, sha256: hash.digest('hex') };
}

async function bytesOf(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

const key = (name: string) => ({ uid: `run-${randomUUID()}`, job: 'extract', attempt: 1, name });

describe('S3 artifact store', () => {
  it('stores a stream larger than a part (multipart) and reads it back whole and by range', async () => {
    const size = 20 * 1024 * 1024 + 123; // three 8 MiB parts
    const { body, sha256 } = pattern(size);
    const k = key('big');
    expect(await store.put(k, body, size)).toEqual({ size, sha256 });
    const whole = await store.get(k);
    expect(whole.size).toBe(size);
    const bytes = await bytesOf(whole.body);
    expect(bytes.length).toBe(size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);
    const ranged = await store.get(k, { start: 8 * 1024 * 1024 - 2, end: 8 * 1024 * 1024 + 5 });
    expect(ranged.size).toBe(size);
    expect(await bytesOf(ranged.body)).toEqual(
      bytes.subarray(8 * 1024 * 1024 - 2, 8 * 1024 * 1024 + 6),
    );
  });

  it('refuses a stream over the limit and leaves no object behind', async () => {
    const k = key('too-big');
    const { body } = pattern(9 * 1024 * 1024);
    await expect(store.put(k, body, 8 * 1024 * 1024 + 1)).rejects.toBeInstanceOf(
      ArtifactTooLargeError,
    );
    await expect(store.get(k)).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('says when there is no such artifact', async () => {
    await expect(store.get(key('nothing'))).rejects.toThrow(
      /no artifact "nothing" of extract \(attempt 1\)/,
    );
  });
});

describe('a pipeline on the S3 store', () => {
  let redis: TestRedis;
  let h: Harness;
  beforeAll(async () => {
    redis = await startRedis();
    h = await startInProcess(redis.url, {
      artifacts: { store, limits: { perArtifact: 1024 ** 2, perRun: 10 * 1024 ** 2 } },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
  });

  it('passes a file and a directory from one job to the next, and serves them', async () => {
    const res = await fetch(`${h.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'Pipeline',
        jobs: {
          extract: {
            image: 'busybox',
            run: 'mkdir d && echo one > d/1 && printf "a,1\\nb,2\\n" > rows.csv',
            artifacts: [
              { name: 'rows', path: 'rows.csv' },
              { name: 'd', path: 'd' },
            ],
          },
          load: {
            image: 'busybox',
            dependsOn: [{ job: 'extract' }],
            inputs: {
              artifacts: [
                { from: 'extract', name: 'rows' },
                { from: 'extract', name: 'd' },
              ],
            },
            run: 'echo "$(wc -l < "$CHAINR_ARTIFACTS/extract/rows") rows, $(cat "$CHAINR_ARTIFACTS/extract/d/1")"',
          },
        },
      }),
    });
    expect(res.status).toBe(202);
    const run = await waitForEnd(h.url, ((await res.json()) as RunBody).metadata.uid);
    const uid = run.metadata.uid;
    expect(statuses(run)).toEqual({ extract: 'SUCCESSFUL', load: 'SUCCESSFUL' });
    expect(await (await fetch(`${h.url}/api/runs/${uid}/jobs/load/logs`)).text()).toBe(
      '2 rows, one\n',
    );
    const file = await fetch(`${h.url}/api/runs/${uid}/jobs/extract/artifacts/rows`);
    expect(file.headers.get('content-length')).toBe('8');
    expect(await file.text()).toBe('a,1\nb,2\n');
    const ranged = await fetch(`${h.url}/api/runs/${uid}/jobs/extract/artifacts/rows`, {
      headers: { range: 'bytes=-4' },
    });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('b,2\n');
  });
});
