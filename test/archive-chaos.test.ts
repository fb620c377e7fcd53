/**
 * Chaos for the archiver: `chainr recycle` processes, archiving at once (window 0), are SIGKILLed
 * again and again at random moments while runs keep finishing. Afterwards every accepted run is
 * read exactly once through the API — the list has each uid once, GET and its log answer — and
 * Redis keeps nothing of any of them. On a SQLite file and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive, type ArchiveConfig } from '../src/archive/open.ts';
import type { ArchiveStore } from '../src/archive/store.ts';
import { makeKeys } from '../src/store/keys.ts';
import { getRun, submit, waitForEnd } from './fixtures/api.ts';
import { ARCHIVE_BACKENDS, type ArchiveBackend } from './fixtures/archive-backends.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { spawnChainr, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';

let redis: TestRedis;
let dataDir: string;

beforeAll(async () => {
  redis = await startRedis();
  dataDir = mkdtempSync(join(tmpdir(), 'chainr-test-archive-chaos-'));
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Each start of `chainr recycle` loads its sources: seconds on a busy machine. */
const KILLS = 6;
const RUNS = 60;

const urlOf = (config: ArchiveConfig) =>
  config.backend === 'sqlite' ? `sqlite:${config.path}` : config.url;

describe.each(ARCHIVE_BACKENDS)('the archiver killed at random on $name', ({ start }) => {
  let backend: ArchiveBackend;
  let archive: ArchiveStore;
  let api: Harness;
  let recycle: ChainrProcess | undefined;
  let startRecycle: () => ChainrProcess;

  beforeAll(async () => {
    backend = await start();
    const config = await backend.config();
    archive = await openArchive(config);
    api = await startInProcess(redis.url, { archive });
    // `chainr recycle` as deployed: its own process, the same Redis, prefix and archive.
    const env = {
      REDIS_URL: redis.url,
      CHAINR_PREFIX: api.prefix,
      CHAINR_ARCHIVE_URL: urlOf(config),
      CHAINR_ARCHIVE_WINDOW: '0',
      CHAINR_RECYCLE_INTERVAL: '50ms',
      CHAINR_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    };
    startRecycle = () => spawnChainr(['recycle'], env);
  });
  afterAll(async () => {
    await recycle?.kill('SIGKILL');
    await api?.stop();
    await archive?.close();
    await backend?.stop();
  });

  it('reads every accepted run exactly once afterwards, and Redis keeps none of them', async () => {
    const accepted: string[] = [];
    let submitting = true;
    const submitter = (async () => {
      for (let i = 0; i < RUNS; i++) {
        const run = await submit(api.url, {
          kind: 'Pipeline',
          metadata: { name: 'chaos', labels: { n: String(i) } },
          jobs: {
            first: { image: 'x', run: `echo "run ${i}"; sleep 0.0$((${i} % 5))` },
            second: { image: 'x', run: `echo "done ${i}"`, dependsOn: [{ job: 'first' }] },
          },
        });
        accepted.push(run.metadata.uid);
      }
      submitting = false;
    })();
    let kills = 0;
    while (kills < KILLS || submitting) {
      recycle = startRecycle();
      const proc = recycle;
      await until(() => proc.output().includes('recycle started'), 'recycle started', 60_000);
      // Killed at a random moment of its cycles: before, while or after it archives a batch.
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      await proc.kill('SIGKILL');
      kills += 1;
    }
    await submitter;
    for (const uid of accepted) await waitForEnd(api.url, uid);

    // The killed ones had archived runs between their kills.
    expect((await archive.counts()).SUCCESSFUL).toBeGreaterThan(0);
    // One last recycle, left to finish: everything ended moves.
    recycle = startRecycle();
    const keys = makeKeys(api.prefix);
    const client = redis.client();
    await until(
      async () => (await client.zcard(keys.runs)) === 0,
      () => `every run archived (${recycle?.output()})`,
      60_000,
    );
    await recycle.kill('SIGTERM');

    const listed: string[] = [];
    let token: string | undefined;
    do {
      const res = await fetch(`${api.url}/api/runs?limit=7${token ? `&continue=${token}` : ''}`);
      const page = (await res.json()) as {
        items: { metadata: { uid: string } }[];
        metadata: { continue?: string };
      };
      listed.push(...page.items.map((r) => r.metadata.uid));
      token = page.metadata.continue;
    } while (token !== undefined);
    expect(listed).toEqual([...accepted].sort().reverse());
    for (const [i, uid] of accepted.entries()) {
      expect((await getRun(api.url, uid)).status).toBe('SUCCESSFUL');
      const log = await fetch(`${api.url}/api/runs/${uid}/jobs/second/logs`);
      expect(await log.text()).toBe(`done ${i}\n`);
    }
    expect((await archive.counts()).SUCCESSFUL).toBe(RUNS);
    const left = (await client.keys(`${api.prefix}*`)).filter(
      (k) => !k.startsWith(keys.bullPrefix) && accepted.some((uid) => k.includes(uid)),
    );
    expect(left).toEqual([]);
  }, 300_000);
});
