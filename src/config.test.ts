/** docs/CONFIGURATION.md documents every variable the services read (src/config.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { archiveOf, ConfigError, executorRefusal, loadConfig, offers } from './config.ts';

it('documents every environment variable src/config.ts reads in docs/CONFIGURATION.md', () => {
  const source = readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
  const doc = readFileSync(new URL('../docs/CONFIGURATION.md', import.meta.url), 'utf8');
  const read = new Set(
    [...source.matchAll(/\benv(?:\.|,\s*')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1] ?? ''),
  );
  // Set by Kubernetes in every pod: how chainr knows it runs in one, not a switch.
  read.delete('KUBERNETES_SERVICE_HOST');
  expect(read.size).toBeGreaterThan(30);
  expect([...read].filter((name) => !doc.includes(`| \`${name}\``))).toEqual([]);
});

it('adds the host of CHAINR_PUBLIC_URL to the allowed hosts and names a bad entry', () => {
  const config = loadConfig({
    CHAINR_ALLOWED_HOSTS: 'Chainr.Internal, ops',
    CHAINR_PUBLIC_URL: 'https://chainr.example.com/',
  });
  expect(config.gate.allowedHosts).toEqual(['chainr.internal', 'ops', 'chainr.example.com']);
  expect(() => loadConfig({ CHAINR_ALLOWED_HOSTS: 'http://chainr.example.com:8080' })).toThrow(
    /CHAINR_ALLOWED_HOSTS: expected host names .* got "http:\/\/chainr.example.com:8080"/,
  );
});

describe('executors offered', () => {
  it('offers local by default only while auth is off', () => {
    expect(offers(loadConfig({}), 'local')).toBe(true);
    const withAuth = loadConfig({ CHAINR_TOKENS_FILE: 'tokens.yaml' });
    expect(offers(withAuth, 'local')).toBe(false);
    expect(offers(withAuth, 'kubernetes')).toBe(true);
    expect(executorRefusal(withAuth, 'local')).toMatch(
      /^the local executor is off when auth is on \(CHAINR_TOKENS_FILE\).*CHAINR_EXECUTORS/,
    );
  });

  it('offers exactly CHAINR_EXECUTORS when it is set, auth or not', () => {
    const config = loadConfig({
      CHAINR_TOKENS_FILE: 'tokens.yaml',
      CHAINR_EXECUTORS: 'local, noop',
    });
    expect(offers(config, 'local')).toBe(true);
    expect(offers(config, 'container')).toBe(false);
    expect(config.container).toBeUndefined();
    expect(executorRefusal(config, 'kubernetes')).toBe(
      'executor "kubernetes" is not offered by this deployment (CHAINR_EXECUTORS: local, noop)',
    );
  });

  it('refuses a name that is not an executor', () => {
    expect(() => loadConfig({ CHAINR_EXECUTORS: 'local,docker' })).toThrow(
      new ConfigError(
        'CHAINR_EXECUTORS: "docker" is not an executor (expected a list of local, container, kubernetes, noop)',
      ),
    );
  });

  it('reads the log limits, refusing a line limit too small to hold a marker', () => {
    const config = loadConfig({ CHAINR_LOG_LINE_BYTES: '4096', CHAINR_LOG_JOB_BYTES: '1048576' });
    expect(config.logLimits).toEqual({ maxLineBytes: 4096, maxJobBytes: 1048576 });
    expect(() => loadConfig({ CHAINR_LOG_LINE_BYTES: '10' })).toThrow(
      'CHAINR_LOG_LINE_BYTES: expected an integer >= 256, got "10"',
    );
  });
});

it('raises the job limit up to 10,000 and no further', () => {
  expect(loadConfig({ CHAINR_MAX_JOBS: '10000' }).maxJobsPerPipeline).toBe(10_000);
  expect(() => loadConfig({ CHAINR_MAX_JOBS: '10001' })).toThrow(
    'CHAINR_MAX_JOBS: expected at most 10000, got 10001',
  );
});

it('keeps the Redis command timeout longer than a replica WAIT', () => {
  expect(loadConfig({}).redisTimeoutMs).toBe(3000);
  expect(loadConfig({ CHAINR_REDIS_TIMEOUT: '1s' }).redisTimeoutMs).toBe(1000);
  expect(() =>
    loadConfig({
      CHAINR_WAIT_REPLICAS: '1',
      CHAINR_WAIT_TIMEOUT: '5s',
      CHAINR_REDIS_TIMEOUT: '5s',
    }),
  ).toThrow('CHAINR_REDIS_TIMEOUT (5000 ms) must be longer than CHAINR_WAIT_TIMEOUT (5000 ms)');
});

describe('artifacts', () => {
  it('stores under the data directory unless a bucket is named', () => {
    const config = loadConfig({ CHAINR_DATA_DIR: '/var/lib/chainr' });
    expect(config.artifacts.dir).toBe('/var/lib/chainr/artifacts');
    expect(config.artifacts.s3).toBeUndefined();
    expect(config.artifacts.limits).toEqual({ perArtifact: 1024 ** 3, perRun: 10 * 1024 ** 3 });
  });

  it('uses the bucket, path-style with an endpoint, and names a bad setting', () => {
    const config = loadConfig({
      CHAINR_ARTIFACTS_S3_BUCKET: 'runs',
      CHAINR_ARTIFACTS_S3_ENDPOINT: 'http://minio:9000',
      AWS_REGION: 'eu-west-3',
      CHAINR_ARTIFACT_MAX_BYTES: '1000',
    });
    expect(config.artifacts.s3).toEqual({
      bucket: 'runs',
      prefix: 'chainr/',
      endpoint: 'http://minio:9000',
      region: 'eu-west-3',
      forcePathStyle: true,
    });
    expect(config.artifacts.limits.perArtifact).toBe(1000);
    expect(() =>
      loadConfig({ CHAINR_ARTIFACTS_S3_BUCKET: 'runs', CHAINR_ARTIFACTS_S3_PATH_STYLE: 'yes' }),
    ).toThrow('CHAINR_ARTIFACTS_S3_PATH_STYLE: expected 0 or 1, got "yes"');
  });
});

describe('archive', () => {
  it('is off unless CHAINR_ARCHIVE_URL names a SQLite file or a PostgreSQL URL', () => {
    expect(loadConfig({}).archive).toBeUndefined();
    expect(loadConfig({ CHAINR_ARCHIVE_URL: '/var/lib/chainr/archive.db' }).archive).toEqual({
      backend: 'sqlite',
      path: '/var/lib/chainr/archive.db',
    });
    expect(loadConfig({ CHAINR_ARCHIVE_URL: 'sqlite:archive.db' }).archive).toEqual({
      backend: 'sqlite',
      path: 'archive.db',
    });
    const url = 'postgresql://chainr:secret@db:5432/chainr?sslmode=verify-full';
    expect(loadConfig({ CHAINR_ARCHIVE_URL: url }).archive).toEqual({ backend: 'postgres', url });
    expect(loadConfig({ CHAINR_ARCHIVE_URL: 'postgres://' }).archive).toEqual({
      backend: 'postgres',
      url: 'postgres://',
    });
    expect(loadConfig({ CHAINR_ARCHIVE_URL: 'off' }).archive).toBe('off');
  });

  it("is a SQLite file in the data directory for one machine's `chainr up`, unless turned off", () => {
    const unset = loadConfig({ CHAINR_DATA_DIR: '/srv/chainr' });
    expect(archiveOf(unset, true)).toEqual({ backend: 'sqlite', path: '/srv/chainr/archive.db' });
    expect(archiveOf(unset, false)).toBeUndefined();
    expect(archiveOf(loadConfig({ CHAINR_ARCHIVE_URL: 'off' }), true)).toBeUndefined();
    const url = 'postgres://db/chainr';
    expect(archiveOf(loadConfig({ CHAINR_ARCHIVE_URL: url }), false)).toEqual({
      backend: 'postgres',
      url,
    });
  });

  it('moves ended runs after CHAINR_ARCHIVE_WINDOW, 24 hours unless told, 0: at once', () => {
    expect(loadConfig({}).archiveWindowMs).toBe(24 * 3600 * 1000);
    expect(loadConfig({ CHAINR_ARCHIVE_WINDOW: '0' }).archiveWindowMs).toBe(0);
    expect(loadConfig({ CHAINR_ARCHIVE_WINDOW: '90m' }).archiveWindowMs).toBe(90 * 60 * 1000);
    expect(() => loadConfig({ CHAINR_ARCHIVE_WINDOW: 'soon' })).toThrow('CHAINR_ARCHIVE_WINDOW');
  });

  it('keeps archived runs for ever unless an age or a count is set, by status or for all', () => {
    expect(loadConfig({}).archiveRetention).toEqual({});
    const hour = 3_600_000;
    expect(
      loadConfig({
        CHAINR_ARCHIVE_MAX_AGE: 'FAILED=8760h, 720h',
        CHAINR_ARCHIVE_KEEP: 'SUCCESSFUL=100000',
      }).archiveRetention,
    ).toEqual({
      SUCCESSFUL: { maxAgeMs: 720 * hour, keep: 100_000 },
      FAILED: { maxAgeMs: 8760 * hour },
      CANCELED: { maxAgeMs: 720 * hour },
    });
    expect(() => loadConfig({ CHAINR_ARCHIVE_MAX_AGE: 'RUNNING=1h' })).toThrow(
      'CHAINR_ARCHIVE_MAX_AGE: "RUNNING" is not the status of an ended run (SUCCESSFUL, FAILED, CANCELED)',
    );
    expect(() => loadConfig({ CHAINR_ARCHIVE_MAX_AGE: 'FAILED=0' })).toThrow(
      'CHAINR_ARCHIVE_MAX_AGE: expected a duration such as "2160h", or by status: "FAILED=8760h,SUCCESSFUL=720h", got "FAILED=0"',
    );
    expect(() => loadConfig({ CHAINR_ARCHIVE_KEEP: 'lots' })).toThrow('CHAINR_ARCHIVE_KEEP');
  });

  it('names a backend it does not know, without echoing the URL', () => {
    expect(() => loadConfig({ CHAINR_ARCHIVE_URL: 'mysql://root:secret@db/chainr' })).toThrow(
      'CHAINR_ARCHIVE_URL: "mysql" is not an archive backend (expected a postgres:// URL, sqlite:<file> or a file path)',
    );
    expect(() => loadConfig({ CHAINR_ARCHIVE_URL: 'postgres://db:port/chainr' })).toThrow(
      /^CHAINR_ARCHIVE_URL: not a valid URL/,
    );
    expect(() => loadConfig({ CHAINR_ARCHIVE_URL: 'sqlite:' })).toThrow(
      'CHAINR_ARCHIVE_URL: sqlite: names no file',
    );
  });
});

it('reads the HTTP timeouts and the stream buffer, and names a timeout order Node refuses', () => {
  const defaults = loadConfig({});
  expect(defaults.httpTimeouts).toEqual({ headersMs: 10_000, requestMs: 30_000 });
  expect(defaults.streamLimits.bufferBytes).toBe(256 * 1024);
  const set = loadConfig({
    CHAINR_HEADERS_TIMEOUT: '2s',
    CHAINR_REQUEST_TIMEOUT: '1m',
    CHAINR_STREAM_BUFFER_BYTES: '65536',
  });
  expect(set.httpTimeouts).toEqual({ headersMs: 2000, requestMs: 60_000 });
  expect(set.streamLimits.bufferBytes).toBe(65_536);
  expect(() => loadConfig({ CHAINR_HEADERS_TIMEOUT: '1m', CHAINR_REQUEST_TIMEOUT: '30s' })).toThrow(
    'CHAINR_HEADERS_TIMEOUT (60000 ms) must not be longer than CHAINR_REQUEST_TIMEOUT (30000 ms)',
  );
  expect(() => loadConfig({ CHAINR_STREAM_BUFFER_BYTES: '100' })).toThrow(
    'CHAINR_STREAM_BUFFER_BYTES: expected an integer >= 4096, got "100"',
  );
});
