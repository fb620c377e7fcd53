/**
 * Bad input near the body limit (1 MiB): the CPU one body costs to parse and validate (target
 * ≤ 200 ms), and the longest event-loop stall of the API while a tour of such bodies is posted
 * to it (target ≤ 50 ms), at the highest job limit (10,000). No baseline: the figures are held
 * to the targets.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { parsePipeline, type PipelineFormat } from '../../src/core/validate.ts';
import { buildSched } from '../../src/services/sched/service.ts';
import { connect } from '../../src/store/connection.ts';
import { makeKeys } from '../../src/store/keys.ts';
import type { BenchContext, WorkloadResult } from '../batch.ts';
import { startBenchRedis } from '../redis.ts';
import { round } from '../stats.ts';

const MAX_JOBS = 10_000;
const LIMIT = loadConfig({}).bodyLimitBytes;

/** Repeats `line(i)` until the text would pass the body limit, or `line` gives nothing more. */
function fill(head: string, line: (i: number) => string, tail = ''): string {
  const parts = [head];
  let size = head.length + tail.length;
  for (let i = 0; ; i++) {
    const next = line(i);
    if (next === '' || size + next.length > LIMIT) break;
    parts.push(next);
    size += next.length;
  }
  return parts.join('') + tail;
}

const job = (i: number, extra = '') => `"j${i}":{"image":"x","run":"y"${extra}},`;

/** Each body at the limit; every one is refused, each by a different check. */
const BODIES: Record<string, { text: string; format: PipelineFormat }> = {
  yaml_keys_in_one_map: {
    text: fill(
      'kind: Pipeline\njobs:\n  a:\n    image: x\n    run: y\n    env:\n',
      (i) => `      K${i}: v\n`,
    ),
    format: 'yaml',
  },
  yaml_flow_keys: {
    text: fill('kind: Pipeline\njobs: {a: {image: x, run: y, env: {', (i) => `K${i}: v, `, '}}}\n'),
    format: 'yaml',
  },
  json_jobs_over_the_limit: {
    text: fill('{"kind":"Pipeline","jobs":{', (i) => job(i), '"last":{"image":"x"}}}'),
    format: 'json',
  },
  json_jobs_at_the_limit_unknown_dependencies: {
    text: fill(
      '{"kind":"Pipeline","jobs":{',
      (i) => (i < MAX_JOBS - 1 ? job(i, `,"dependsOn":[{"job":"k${i}"}]`) : ''),
      '"last":{"image":"x"}}}',
    ),
    format: 'json',
  },
  json_many_values: {
    text: fill(
      '{"kind":"Pipeline","jobs":{"a":{"image":"x","run":"y","env":[',
      () => '0,',
      '0]}}}',
    ),
    format: 'json',
  },
};

function cpuMs(task: () => void): number {
  const before = process.cpuUsage();
  task();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

export async function badInputWorkload(ctx: BenchContext): Promise<Record<string, WorkloadResult>> {
  const repetitions = ctx.quick ? 2 : 5;
  const cpu: Record<string, number> = {};
  for (const [name, { text, format }] of Object.entries(BODIES)) {
    parsePipeline(text, format, { maxJobs: MAX_JOBS, submission: true }); // warm-up
    const samples = Array.from({ length: repetitions }, () =>
      cpuMs(() => parsePipeline(text, format, { maxJobs: MAX_JOBS, submission: true })),
    );
    cpu[`${name}_cpu_ms`] = round(Math.max(...samples));
  }
  const worst = Math.max(...Object.values(cpu));
  ctx.log(`bad-input: worst CPU per body ${round(worst)} ms (target ≤ 200)`);

  const redis = await startBenchRedis();
  const commands = connect({ url: redis.url }, { commandTimeoutMs: loadConfig({}).redisTimeoutMs });
  const app = await buildSched({
    redis: commands,
    connectBlocking: () => connect({ url: redis.url }),
    keys: makeKeys('bench-bad-input:'),
    maxEvents: 1000,
    maxLogLines: 100,
    maxJobsPerPipeline: MAX_JOBS,
    bodyLimitBytes: LIMIT,
    defaultExecutor: 'noop',
    logger: pino({ level: 'silent' }),
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const post = async (text: string, format: PipelineFormat) => {
      const res = await fetch(`${url}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': `application/${format}` },
        body: text,
      });
      await res.text();
      return res.status;
    };
    for (const { text, format } of Object.values(BODIES)) await post(text, format); // warm-up
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const statuses: number[] = [];
    for (let r = 0; r < repetitions; r++)
      for (const { text, format } of Object.values(BODIES)) statuses.push(await post(text, format));
    delay.disable();
    const stallMs = round(delay.max / 1e6);
    ctx.log(`bad-input: longest event-loop stall ${stallMs} ms (target ≤ 50)`);
    return {
      'bad-input': {
        chainr: {
          body_bytes: LIMIT,
          max_jobs: MAX_JOBS,
          worst_cpu_ms: round(worst),
          ...cpu,
          longest_stall_ms: stallMs,
          all_refused_400: statuses.every((s) => s === 400),
        },
        baseline: null,
        ratio: null,
        ratio_of: null,
      },
    };
  } finally {
    await app.close();
    commands.disconnect();
    await redis.stop();
  }
}
