/**
 * The chaos scenario of the CI test and of `npm run chaos`: the services as supervised processes
 * on one Redis, pipelines of mixed shapes with known outcomes submitted through the sched
 * processes while a random process is SIGKILLed and restarted, then a check that every accepted
 * run ended exactly as expected and an account of how often each attempt was executed.
 *
 * Every job appends `<run uid> <job> <attempt> <worker pid> <time ms>` to a ledger file (`$PPID`
 * of `sh -c` is the worker that spawned it), so that a second execution of an attempt can be
 * traced to the killed worker that ran the first.
 */
import { readFile } from 'node:fs/promises';
import { simulate, type Outcome } from '../core/simulate.ts';
import {
  isTerminalRun,
  type JobSpec,
  type JobStatus,
  type Pipeline,
  type RunStatus,
} from '../core/types.ts';
import { killMasterEvery, type MasterKillRecord, type SentinelTopology } from './sentinel.ts';
import { everyAround, Supervisor, type Service, type SupervisorEvent } from './supervisor.ts';

/** How a job of a case behaves: its sleep, and whether it fails always, on attempt 1 only, or never. */
interface Behaviour {
  sleep: number;
  fails?: 'always' | 'first';
  dependsOn?: JobSpec['dependsOn'];
  retries?: number;
  /** A line it writes to $CHAINR_OUTPUTS. */
  writes?: string;
  /** Fans out over this output (forEach), into this many instances. */
  forEach?: { source: string; instances: number };
}

export interface Case {
  name: string;
  pipeline: Pipeline;
  expected: Record<string, JobStatus>;
}

function makeCase(name: string, ledger: string, jobs: Record<string, Behaviour>): Case {
  const spec = (b: Behaviour): JobSpec => {
    const fail =
      b.fails === 'always'
        ? '; exit 1'
        : b.fails === 'first'
          ? '; [ "$CHAINR_ATTEMPT" -ge 2 ]'
          : '';
    return {
      image: 'busybox',
      run: `echo "$CHAINR_RUN_UID $CHAINR_JOB_NAME $CHAINR_ATTEMPT $PPID $(date +%s%3N)" >> ${ledger}; sleep ${b.sleep}${b.writes ? `; echo '${b.writes}' >> "$CHAINR_OUTPUTS"` : ''}${fail}`,
      ...(b.dependsOn && { dependsOn: b.dependsOn }),
      ...(b.forEach && { forEach: b.forEach.source }),
      ...(b.retries !== undefined && {
        retries: { limit: b.retries, backoff: { delay: '200ms' } },
      }),
    };
  };
  const pipeline: Pipeline = {
    kind: 'Pipeline',
    metadata: { name: `chaos-${name}` },
    jobs: Object.fromEntries(Object.entries(jobs).map(([job, b]) => [job, spec(b)])),
  };
  const outcome = (job: string): Outcome =>
    jobs[job]?.fails === 'always' ? 'FAILED' : 'SUCCESSFUL';
  const expected = simulate(pipeline, outcome).statuses;
  // A forEach job's instances exist once it runs: each SUCCESSFUL, as the job.
  for (const [job, b] of Object.entries(jobs)) {
    for (let i = 0; i < (b.forEach?.instances ?? 0); i++) expected[`${job}-${i}`] = 'SUCCESSFUL';
  }
  return { name, pipeline, expected };
}

const after = (...jobs: string[]) => jobs.map((job) => ({ job }));

/** Whether a run's jobs ended with exactly the expected statuses (the same jobs, in any order). */
export function endedAsExpected(
  expected: Record<string, JobStatus>,
  got: Record<string, JobStatus> | undefined,
): boolean {
  if (!got || Object.keys(got).length !== Object.keys(expected).length) return false;
  return Object.entries(expected).every(([job, status]) => got[job] === status);
}

/**
 * The shapes: a chain, a fallback, a failing diamond, retries, a cleanup, a wide fan-out, a
 * dynamic fan-out (forEach).
 */
export function cases(ledger: string): Case[] {
  return [
    makeCase('chain', ledger, {
      a: { sleep: 0.2 },
      b: { sleep: 0.5, dependsOn: after('a') },
      c: { sleep: 0.2, dependsOn: after('b') },
    }),
    makeCase('fallback', ledger, {
      extract: { sleep: 0.3 },
      load: { sleep: 0.2, fails: 'always', dependsOn: after('extract') },
      report: { sleep: 0.1, dependsOn: after('load') },
      restore: {
        sleep: 0.3,
        dependsOn: [{ job: 'load', conditions: { failure: true } }],
      },
    }),
    makeCase('diamond', ledger, {
      top: { sleep: 0.1 },
      left: { sleep: 0.4, dependsOn: after('top') },
      right: { sleep: 0.2, fails: 'always', dependsOn: after('top') },
      bottom: { sleep: 0.1, dependsOn: after('left', 'right') },
    }),
    makeCase('retry', ledger, {
      flaky: { sleep: 0.2, fails: 'first', retries: 2 },
      hopeless: { sleep: 0.1, fails: 'always', retries: 1 },
      next: { sleep: 0.1, dependsOn: after('flaky') },
      never: { sleep: 0.1, dependsOn: after('hopeless') },
    }),
    makeCase('cleanup', ledger, {
      work: { sleep: 0.6, fails: 'always' },
      cleanup: { sleep: 0.1, dependsOn: [{ job: 'work', conditions: { always: true } }] },
    }),
    makeCase('fan-out', ledger, {
      root: { sleep: 0.1 },
      ...Object.fromEntries(
        [1, 2, 3, 4, 5, 6].map((i) => [`leaf${i}`, { sleep: 0.1 * i, dependsOn: after('root') }]),
      ),
      join: { sleep: 0.1, dependsOn: after('leaf1', 'leaf2', 'leaf3', 'leaf4', 'leaf5', 'leaf6') },
    }),
    // Instances created by the producer's end, once: a second set would show as extra jobs.
    makeCase('for-each', ledger, {
      list: { sleep: 0.3, writes: 'parts=["a","b","c","d","e"]' },
      part: {
        sleep: 0.2,
        dependsOn: after('list'),
        forEach: { source: '${{ jobs.list.outputs.parts }}', instances: 5 },
      },
      merge: { sleep: 0.1, dependsOn: after('part') },
    }),
  ];
}

/**
 * Settings of every process in the scenario: a short lock and a fast recycle, so that what a
 * killed process leaves behind is taken over in seconds; only the local executor. The short lock
 * stays because the hand-back on a lapsed registration waits until the worker doing it has had
 * steady heartbeats for two registration lifetimes (6 s), and with a kill every second among the
 * processes the workers rarely live that long: with the default 30 s lock the recovery median was
 * 61 s and too few runs were accepted (docs/CHAOS.md).
 */
export const SCENARIO_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  CHAINR_LOCK_DURATION: '3s',
  CHAINR_RECYCLE_INTERVAL: '1s',
  CHAINR_RECYCLE_GRACE: '5s',
  CHAINR_KUBERNETES: '0',
  CHAINR_CONTAINER: '0',
};

export interface ScenarioOptions {
  /** The Redis of every process: a URL, or a Sentinel topology whose master is killed too. */
  redis: { url: string } | { sentinel: SentinelTopology; masterKillIntervalMs: number };
  ledger: string;
  schedPorts: number[];
  counts: Record<Service, number>;
  /** Settings over SCENARIO_ENV (another executor...). */
  env?: Record<string, string>;
  /** How long runs are submitted, with a process killed every ~killIntervalMs meanwhile. */
  submitMs: number;
  runs: number;
  killIntervalMs: number;
  /** The services whose processes are killed (default: all). */
  victims?: readonly Service[];
  /** How long the accepted runs may take to end once submission and kills have stopped. */
  drainMs: number;
  print: (line: string) => void;
}

interface RunView {
  status: RunStatus;
  jobs: {
    name: string;
    status: JobStatus;
    reason?: string;
    attempts: { attempt: number; startedAt?: string }[];
  }[];
}

export interface ScenarioReport {
  durationMs: number;
  counts: Record<Service, number>;
  submitted: number;
  accepted: number;
  /** Accepted runs that ended with other statuses than expected, or did not end. */
  wrong: { uid: string; case: string; expected: unknown; got: unknown }[];
  kills: number;
  /** Kills of the Redis master (Sentinel mode), with how long each failover took. */
  masterKills: MasterKillRecord[];
  restarts: number;
  crashes: number;
  /** Repairs logged by recycle, by message. */
  repairs: Record<string, number>;
  /** Executions of the accepted runs' jobs (ledger lines). */
  executions: number;
  /** How many attempts were executed once, twice... */
  executionsPerAttempt: Record<string, number>;
  duplicates: number;
  /**
   * Attempts executed again although neither the earlier execution's worker nor the Redis master
   * was killed in between (a failover may lose the record of an attempt's start or end): each
   * with who ran it when, and whether and when that worker was killed.
   */
  unexplained: string[];
  /** Attempts the store says ran, that no job execution recorded. */
  missing: string[];
  /** From the kill of a worker to the next execution of an attempt it was running (ms). */
  recovery: { count: number; medianMs: number; maxMs: number };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(url: string, init?: RequestInit): Promise<Response | undefined> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch {
    return undefined; // refused, reset or timed out: the process was killed or is starting
  }
}

/** Submits a pipeline through any sched until one accepts it; undefined if none does in time. */
async function submit(urls: string[], pipeline: Pipeline): Promise<string | undefined> {
  const deadline = Date.now() + 60_000;
  for (let i = Math.floor(Math.random() * urls.length); Date.now() < deadline; i += 1) {
    const res = await call(`${urls[i % urls.length]}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(pipeline),
    });
    if (res?.status === 202) {
      // A body cut short by the sched's death leaves the run accepted but unknown: not counted.
      const body = (await res.json().catch(() => undefined)) as { metadata: { uid: string } };
      return body?.metadata.uid;
    }
    if (res && res.status !== 503)
      throw new Error(`POST /api/runs: ${res.status} ${await res.text()}`);
    await wait(250);
  }
  return undefined;
}

/** Waits for every run to end; answers the last view of each. */
async function awaitEnd(
  urls: string[],
  uids: string[],
  deadline: number,
): Promise<Map<string, RunView>> {
  const views = new Map<string, RunView>();
  const open = new Set(uids);
  for (let sweep = 0; open.size > 0 && Date.now() < deadline; sweep += 1) {
    const batch = [...open];
    for (let i = 0; i < batch.length; i += 20) {
      await Promise.all(
        batch.slice(i, i + 20).map(async (uid, k) => {
          const res = await call(`${urls[(sweep + k) % urls.length]}/api/runs/${uid}`);
          if (res?.status !== 200) return;
          const view = (await res.json()) as RunView;
          views.set(uid, view);
          if (isTerminalRun(view.status)) open.delete(uid);
        }),
      );
    }
    if (open.size > 0) await wait(1000);
  }
  return views;
}

interface Execution {
  pid: number;
  time: number;
}

function parseLedger(text: string): Map<string, Execution[]> {
  const byAttempt = new Map<string, Execution[]>();
  for (const line of text.split('\n')) {
    const [uid, job, attempt, pid, time] = line.split(' ');
    if (!uid || !job || !attempt || !pid || !time) continue;
    const key = `${uid}/${job}/${attempt}`;
    byAttempt.set(key, [...(byAttempt.get(key) ?? []), { pid: Number(pid), time: Number(time) }]);
  }
  return byAttempt;
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioReport> {
  const started = Date.now();
  const env = { ...SCENARIO_ENV, ...o.env };
  const settings = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  o.print(`chaos: ${JSON.stringify(o.counts)} processes with ${settings.join(' ')}`);
  const events: SupervisorEvent[] = [];
  const repairs: Record<string, number> = {};
  const tails = new Map<string, string[]>();
  let stopping = false;
  const redisEnv = 'url' in o.redis ? { REDIS_URL: o.redis.url } : o.redis.sentinel.env;
  const supervisor = new Supervisor({
    counts: o.counts,
    env: { ...redisEnv, ...env },
    schedPorts: o.schedPorts,
    onEvent: (e) => {
      events.push(e);
      // A process that died by itself: show why, from the end of its output.
      if (e.type === 'exit' && e.signal !== 'SIGKILL' && !stopping) {
        o.print(`chaos: ${e.member} exited by itself (code ${e.code}, signal ${e.signal}):`);
        for (const line of tails.get(e.member) ?? []) o.print(`  ${line.slice(0, 300)}`);
      }
    },
    onLine: (member, line) => {
      tails.set(member, [...(tails.get(member) ?? []), line].slice(-20));
      const repair = /"msg":"(recycle: [^"]+)"/.exec(line)?.[1];
      // Re-enqueued attempts by the queue state they were found in.
      const state = /"state":"([a-z]+)"/.exec(line)?.[1];
      if (repair) {
        const kind = state ? `${repair} (${state})` : repair;
        repairs[kind] = (repairs[kind] ?? 0) + 1;
      } else if (/"level":(50|60)/.test(line)) o.print(`[${member}] ${line.slice(0, 300)}`);
    },
  });
  const urls = o.schedPorts.map((p) => `http://127.0.0.1:${p}`);
  supervisor.start();
  try {
    for (const url of urls) {
      const deadline = Date.now() + 120_000;
      while (!(await call(`${url}/api`))?.ok) {
        if (Date.now() > deadline) throw new Error(`${url} did not answer within 120 s`);
        await wait(200);
      }
    }
    o.print(
      `chaos: ${Object.values(o.counts).join('/')} processes up after ${Date.now() - started} ms`,
    );
    const shapes = cases(o.ledger);
    const monkey = everyAround(
      o.killIntervalMs,
      () => supervisor.killRandom(o.victims),
      () => undefined,
    );
    const masterMonkey =
      'sentinel' in o.redis
        ? killMasterEvery(o.redis.sentinel, o.redis.masterKillIntervalMs, o.print)
        : undefined;
    const accepted: { uid: string; c: Case }[] = [];
    const submitStart = Date.now();
    await Promise.all(
      Array.from({ length: o.runs }, async (_, i) => {
        await wait((i * o.submitMs) / o.runs - (Date.now() - submitStart));
        const c = shapes[i % shapes.length] as Case;
        const uid = await submit(urls, c.pipeline);
        if (uid) accepted.push({ uid, c });
      }),
    );
    monkey.stop();
    masterMonkey?.stop();
    const masterKills = masterMonkey?.kills ?? [];
    o.print(
      `chaos: ${accepted.length}/${o.runs} runs accepted, ${supervisor.stats.kills} kills${'sentinel' in o.redis ? ` and ${masterKills.length} of the Redis master` : ''}; waiting for the runs to end`,
    );
    const views = await awaitEnd(
      urls,
      accepted.map((a) => a.uid),
      Date.now() + o.drainMs,
    );
    const ledger = parseLedger(await readFile(o.ledger, 'utf8').catch(() => ''));
    const wrong: ScenarioReport['wrong'] = [];
    const missing: string[] = [];
    const perAttempt: Record<string, number> = {};
    let executions = 0;
    const recoveries: number[] = [];
    const unexplained: string[] = [];
    const killedAt = new Map(
      events.flatMap((e) => (e.type === 'kill' ? [[e.pid, e.time] as const] : [])),
    );
    const memberOf = new Map(events.map((e) => [e.pid, e.member] as const));
    /** An execution, for a person reading why an attempt ran again: `<member> (pid <pid>) at <time>`. */
    const by = (run: Execution) =>
      `${memberOf.get(run.pid) ?? 'an unknown process'} (pid ${run.pid}) at ${run.time}`;
    for (const { uid, c } of accepted) {
      const view = views.get(uid);
      const got = view && Object.fromEntries(view.jobs.map((j) => [j.name, j.status]));
      if (!endedAsExpected(c.expected, got))
        wrong.push({
          uid,
          case: c.name,
          expected: c.expected,
          // With the reasons, to tell why a job ended as it did.
          got: view?.jobs.map((j) => `${j.name}: ${j.status} ${j.reason ?? ''}`) ?? 'no answer',
        });
      for (const job of view?.jobs ?? []) {
        for (const a of job.attempts) {
          const key = `${uid}/${job.name}/${a.attempt}`;
          const runs = ledger.get(key) ?? [];
          // A forEach job runs nothing itself: its instances do.
          const group = c.pipeline.jobs[job.name]?.forEach !== undefined;
          if (a.startedAt && runs.length === 0 && job.status !== 'RUNNING' && !group)
            missing.push(key);
          if (runs.length === 0) continue;
          executions += runs.length;
          perAttempt[runs.length] = (perAttempt[runs.length] ?? 0) + 1;
          // Each execution but the last must have been cut short by its worker's death.
          runs.sort((x, y) => x.time - y.time);
          runs.slice(0, -1).forEach((run, n) => {
            const killed = killedAt.get(run.pid);
            const next = runs[n + 1] as Execution;
            const failover = masterKills.find((k) => k.time >= run.time && k.time <= next.time);
            // A job whose worker was already gone when it wrote its line names pid 1 (its new parent).
            const orphaned = run.pid === 1;
            if (killed !== undefined && killed <= next.time) recoveries.push(next.time - killed);
            else if (!failover && !orphaned) {
              const fate = killed === undefined ? 'never killed' : `killed at ${killed}`;
              unexplained.push(`${key}: run by ${by(run)}, ${fate}, and again by ${by(next)}`);
            }
          });
        }
      }
    }
    recoveries.sort((a, b) => a - b);
    return {
      durationMs: Date.now() - started,
      counts: o.counts,
      submitted: o.runs,
      accepted: accepted.length,
      wrong,
      kills: supervisor.stats.kills,
      masterKills,
      restarts: supervisor.stats.starts - Object.values(o.counts).reduce((a, b) => a + b, 0),
      crashes: supervisor.stats.crashes,
      repairs,
      executions,
      executionsPerAttempt: perAttempt,
      duplicates: Object.entries(perAttempt).reduce(
        (sum, [n, attempts]) => sum + (Number(n) - 1) * attempts,
        0,
      ),
      unexplained,
      missing,
      recovery: {
        count: recoveries.length,
        medianMs: recoveries[Math.floor(recoveries.length / 2)] ?? 0,
        maxMs: recoveries.at(-1) ?? 0,
      },
    };
  } finally {
    stopping = true;
    await supervisor.stop();
  }
}

/** A few lines a person reads. */
export function summary(r: ScenarioReport): string {
  const per = Object.entries(r.executionsPerAttempt)
    .map(([n, count]) => `${count} × ${n}`)
    .join(', ');
  return [
    `chaos: ${Math.round(r.durationMs / 1000)} s, processes ${JSON.stringify(r.counts)}`,
    `  runs: ${r.accepted} accepted of ${r.submitted}; ${r.wrong.length} ended other than expected`,
    `  kills: ${r.kills}, restarts: ${r.restarts}, crashes: ${r.crashes}`,
    ...(r.masterKills.length > 0
      ? [
          `  Redis master kills: ${r.masterKills.length}; promoted after ${r.masterKills.map((k) => k.promotedMs ?? '?').join(', ')} ms`,
        ]
      : []),
    `  repairs by recycle: ${JSON.stringify(r.repairs)}`,
    `  job executions: ${r.executions}; executions per attempt: ${per}`,
    `  duplicates: ${r.duplicates} (unexplained by a kill or a failover: ${r.unexplained.length}); attempts never executed: ${r.missing.length}`,
    `  recovery after a worker kill: median ${r.recovery.medianMs} ms, max ${r.recovery.maxMs} ms (${r.recovery.count} attempts)`,
  ].join('\n');
}
