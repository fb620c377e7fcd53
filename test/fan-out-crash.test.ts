/**
 * A worker SIGKILLed at the moment a dynamic fan-out expands, on real processes (redis-server,
 * `chainr sched`, two `chainr work`, `chainr recycle`). The worker that runs the producer talks to
 * Redis through a relay that cuts it off at its report of the producer's end (finish-job.lua,
 * the transition that creates the instances): either just before the report reaches Redis, or
 * just after, so that the instances exist but none was enqueued (the one carried on in the
 * producer's slot may have run, its end unreported). Then it is killed. Either way every
 * instance runs to its end once on the surviving worker, the join once, and the run ends
 * SUCCESSFUL with each instance created once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { attemptId, readyQueueName } from '../src/store/keys.ts';
import { statuses, submit, waitForEnd } from './fixtures/api.ts';
import {
  spawnChainr,
  startHttpService,
  startWorkProcess,
  type ChainrProcess,
} from './fixtures/processes.ts';
import { startRedisRelay, type RedisRelay } from './fixtures/redis-relay.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';
import { ledgerLines } from './fixtures/ledger.ts';

const ITEMS = 40;
const PREFIX = 'fan-out-crash:';
// A dead worker's registration lapses after three heartbeats; recycle looks every second.
const SETTINGS = {
  CHAINR_PREFIX: PREFIX,
  CHAINR_KUBERNETES: '0',
  CHAINR_CONTAINER: '0',
  CHAINR_HEARTBEAT_INTERVAL: '500ms',
  CHAINR_RECYCLE_INTERVAL: '1s',
  CHAINR_RECYCLE_GRACE: '1s',
};

let redis: TestRedis;
let sched: ChainrProcess & { url: string };
let dir: string;
const processes: ChainrProcess[] = [];
let relay: RedisRelay | undefined;

beforeAll(async () => {
  redis = await startRedis();
  sched = await startHttpService('sched', { REDIS_URL: redis.url, ...SETTINGS });
}, 120_000);
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
  await relay?.close();
  relay = undefined;
  rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await sched?.kill('SIGKILL');
  await redis?.stop();
});

async function startWorker(url: string): Promise<ChainrProcess> {
  const worker = await startWorkProcess(url, PREFIX, SETTINGS);
  processes.push(worker);
  return worker;
}

/** Ledger lines `<job> <item> <attempt> <worker pid>`, one per execution that ran to its end. */
function ledger(): { job: string; item: string; attempt: string; pid: number }[] {
  return ledgerLines(join(dir, 'ledger')).map(([job = '', item = '', attempt = '', pid = '']) => ({
    job,
    item,
    attempt,
    pid: Number(pid),
  }));
}

/**
 * list: records its start, waits for `go`, outputs ITEMS numbers; part: one instance per item,
 * each recording its end; join: records its end. The local executor's `sh` is the worker's
 * child: `$PPID` is the worker.
 */
function pipeline(go: string) {
  const ledgerFile = join(dir, 'ledger');
  const record = (item: string) =>
    `echo "$CHAINR_JOB_NAME ${item} $CHAINR_ATTEMPT $PPID" >> ${ledgerFile}`;
  const items = JSON.stringify(Array.from({ length: ITEMS }, (_, i) => i));
  return {
    kind: 'Pipeline',
    jobs: {
      list: {
        image: 'busybox',
        run: `${record('-')}; while [ ! -e ${go} ]; do sleep 0.05; done; echo 'items=${items}' >> "$CHAINR_OUTPUTS"`,
      },
      part: {
        dependsOn: [{ job: 'list' }],
        forEach: '${{ jobs.list.outputs.items }}',
        image: 'busybox',
        run: record('$CHAINR_ITEM'),
      },
      join: { dependsOn: [{ job: 'part' }], image: 'busybox', run: record('-') },
    },
  };
}

/** finish-job.lua recording the producer's successful end (KEYS: 3; ARGV: uid, job, attempt, status). */
const producerReport = (uid: string) => (args: string[]) =>
  (args[0] === 'evalsha' || args[0] === 'eval') &&
  args[6] === uid &&
  args[7] === 'list' &&
  args[9] === 'SUCCESSFUL';

const instances = Array.from({ length: ITEMS }, (_, i) => `part-${i}`);

it.each([
  ['before', 'the report is lost with the worker: the producer runs again elsewhere'],
  ['after', 'the instances exist, none is enqueued: the dead worker leaves them all to others'],
] as const)(
  'creates and runs each instance once when the worker dies at the expansion, %s its report (%s)',
  async (mode, _why) => {
    dir = mkdtempSync(join(tmpdir(), 'chainr-fan-out-crash-'));
    relay = await startRedisRelay(redis.port);
    const doomed = await startWorker(relay.url);
    const go = join(dir, 'go');
    const run = await submit(sched.url, pipeline(go));
    const uid = run.metadata.uid;
    await until(() => ledger().length === 1, 'the producer to start', 30_000);
    expect(ledger()[0], doomed.output()).toMatchObject({ job: 'list', pid: doomed.child.pid });
    // The other worker, up before the producer ends: it takes over what the dead one leaves.
    const survivor = await startWorker(redis.url);

    const cut = relay.cutAt(producerReport(uid), mode);
    writeFileSync(go, '');
    await cut;
    const client = redis.client();
    const key = `${PREFIX}run:${uid}`;
    if (mode === 'after') {
      // The expansion happened in Redis: the group RUNNING over its instances, none run yet.
      await until(
        async () => (await client.hget(key, 'part.items')) === String(ITEMS),
        'the expansion',
        10_000,
      );
    }
    await doomed.kill('SIGKILL');
    const fields = await client.hmget(key, 'list.status', 'part.status', 'part-0.status');
    const queued = await Promise.all(
      instances.map((job) =>
        client.exists(`${PREFIX}bull:${readyQueueName('local')}:${attemptId(uid, job, 1)}`),
      ),
    );
    if (mode === 'before') {
      expect(fields).toEqual(['RUNNING', 'PENDING', null]);
    } else {
      // part-0 was carried on in the producer's slot: RUNNING there, never started.
      expect(fields).toEqual(['SUCCESSFUL', 'RUNNING', 'RUNNING']);
    }
    expect(queued.filter((q) => q === 1)).toEqual([]);
    // Nothing but the producer ran to its end, and (after) the carried part-0, which starts
    // while the others are enqueued: its end never reached Redis.
    expect(
      ledger()
        .slice(1)
        .map((l) => [l.job, l.pid]),
    ).toEqual(ledger().length > 1 && mode === 'after' ? [['part-0', doomed.child.pid]] : []);

    // recycle from now on (earlier, it could enqueue the instances before they are looked at).
    const recycle = spawnChainr(['recycle'], { REDIS_URL: redis.url, ...SETTINGS });
    processes.push(recycle);
    const ended = await waitForEnd(sched.url, uid, 90_000);
    expect(ended.status).toBe('SUCCESSFUL');
    expect(statuses(ended)).toEqual({
      list: 'SUCCESSFUL',
      part: 'SUCCESSFUL',
      ...Object.fromEntries(instances.map((job) => [job, 'SUCCESSFUL'])),
      join: 'SUCCESSFUL',
    });
    // Each instance created once: the run lists each name once, and counts each job once.
    expect(ended.jobs.map((j) => j.name)).toEqual(['list', 'part', ...instances, 'join']);
    expect(await client.hmget(key, 'total', 'done')).toEqual([
      String(ITEMS + 3),
      String(ITEMS + 3),
    ]);

    const lines = ledger();
    const producer = lines.filter((l) => l.job === 'list');
    // Lost with its report, the producer's attempt ran again on the survivor (same attempt).
    expect(producer.map((l) => [l.attempt, l.pid])).toEqual(
      mode === 'before'
        ? [
            ['1', doomed.child.pid],
            ['1', survivor.child.pid],
          ]
        : [['1', doomed.child.pid]],
    );
    // Each instance ran to its end once on the survivor, as attempt 1 (part-0 again if it had
    // run on the dead worker: a job whose worker dies runs again, docs/CHAOS.md).
    const ran = lines.filter((l) => l.job.startsWith('part-') && l.pid === survivor.child.pid);
    expect(ran.map((l) => `${l.job} ${l.item} ${l.attempt}`).sort()).toEqual(
      instances.map((job, i) => `${job} ${i} 1`).sort(),
    );
    expect(lines.filter((l) => l.job.startsWith('part-')).length - ran.length).toBeLessThanOrEqual(
      mode === 'after' ? 1 : 0,
    );
    expect(lines.filter((l) => l.job === 'join')).toHaveLength(1);
    // Enqueued by nobody before the kill: recycle found them missing from their queue.
    if (mode === 'after') expect(recycle.output()).toContain('re-enqueued a lost attempt');
  },
  180_000,
);
