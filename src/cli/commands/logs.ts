/** `chainr logs UID [JOB] [-f]`: one job's log, or every job's, prefixed and interleaved. */
import { InvalidArgumentError, type Command } from 'commander';
import { isTerminalJob, isTerminalRun } from '../../core/types.ts';
import type { Run } from '../../api/wire.ts';
import type { ChainrClient } from '../../api/client.ts';
import type { CliContext } from '../context.ts';
import { action, CliError, EXIT, makeClient, useColor } from '../context.ts';
import { epoch, StreamEscaper } from '../format.ts';
import { jobStyle, LinePrefixer, prefix } from '../log-lines.ts';
import { ServerClock, watchRun, type WatchView } from '../watch.ts';
import type { RunState } from '../watch-state.ts';
import { isRaw, rawOption, serverOption } from './common.ts';
import { resolveUid } from '../uids.ts';

interface LogsOptions {
  follow?: boolean;
  prefix: boolean;
  attempt?: number;
}

function attemptNumber(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1)
    throw new InvalidArgumentError('expected an attempt number: 1 for the first');
  return n;
}

/** Writes each job's lines with its prefix; a job's log is read whole or followed to its end. */
class Printer {
  private readonly width: number;
  constructor(
    private readonly ctx: CliContext,
    private readonly client: ChainrClient,
    private readonly uid: string,
    private readonly names: string[],
    private readonly withPrefix: boolean,
    private readonly raw: boolean,
  ) {
    this.width = Math.max(...names.map((n) => n.length));
  }

  async print(job: string, follow: boolean, signal: AbortSignal): Promise<void> {
    const color = useColor(this.ctx.env, this.ctx.stdout);
    const index = this.names.indexOf(job);
    const lines = new LinePrefixer(prefix(job, this.width, jobStyle(index), color));
    const text = this.raw ? undefined : new StreamEscaper();
    const write = (chunk: string) =>
      this.ctx.stdout.write(this.withPrefix ? lines.push(chunk) : chunk);
    for await (const chunk of this.client.jobLog(this.uid, job, { follow, signal })) {
      write(text ? text.push(chunk) : chunk);
    }
    if (text) write(text.flush());
    if (this.withPrefix) this.ctx.stdout.write(lines.flush());
  }
}

/** Jobs that ran, in the order they started. */
function startedJobs(run: Run): string[] {
  return run.jobs
    .filter((j) => j.startedAt !== undefined)
    .sort((a, b) => (epoch(a.startedAt) ?? 0) - (epoch(b.startedAt) ?? 0))
    .map((j) => j.name);
}

/**
 * Follows every job of a run: each job's log is followed from the moment it starts (the run's
 * event stream says when), all at once, until the run has ended and every log is complete.
 */
async function followAll(
  ctx: CliContext,
  client: ChainrClient,
  run: Run,
  withPrefix: boolean,
  raw: boolean,
) {
  const uid = run.metadata.uid;
  const printer = new Printer(
    ctx,
    client,
    uid,
    run.jobs.map((j) => j.name),
    withPrefix,
    raw,
  );
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.interrupt.signal, stop.signal]);
  const followed = new Map<string, Promise<void>>();
  let failure: Error | undefined;
  const fail = (err: unknown) => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    stop.abort(); // one broken stream ends the command, with its error
  };
  const start = (state: RunState) => {
    for (const job of state.jobs) {
      if (followed.has(job.name) || (job.status !== 'RUNNING' && job.startedAt === undefined))
        continue;
      const task = printer.print(job.name, true, signal).catch(fail);
      followed.set(job.name, task);
    }
  };
  const view: WatchView = {
    update: start,
    note: () => undefined,
    finish: () => undefined,
    stop: () => undefined,
  };
  try {
    await watchRun(client, uid, view, { signal, clock: new ServerClock(), raw });
  } catch (err) {
    fail(err);
  }
  await Promise.all(followed.values());
  if (failure !== undefined) throw failure;
}

/** Why a job has no log to print (it never started and will not), or undefined. */
function noLogReason(run: Run, name: string): string | undefined {
  const job = run.jobs.find((j) => j.name === name);
  if (!job) {
    throw new CliError(
      `run ${run.metadata.uid} has no job "${name}" (its jobs: ${run.jobs.map((j) => j.name).join(', ')})`,
    );
  }
  if (job.startedAt !== undefined || !isTerminalJob(job.status)) return undefined;
  const reason = job.reason ? `: ${job.reason}` : '';
  return `job ${name} has no log: it was ${job.status} without running${reason}`;
}

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description("Print a job's log, or every job's log prefixed with the job's name")
    .argument(
      '<uid>',
      'the run: its uid, or its first or last characters (the UI shows the last 8)',
    )
    .argument('[job]', 'one job of the run; all of them when left out')
    .option('-f, --follow', 'keep printing new lines until the job (or the whole run) ends')
    .option('--no-prefix', "with every job's log, leave the job names out")
    .option(
      '--attempt <n>',
      "with a job: only this attempt's lines (1 for the first), without attempt markers",
      attemptNumber,
    )
    .addOption(rawOption())
    .addOption(serverOption())
    .addHelpText(
      'after',
      `
Without a job, the logs of the jobs that ran are printed one job after the other, each line
prefixed with its job's name; with --follow they are interleaved as they are written.

Examples:
  chainr logs 0190a1b2-... load
  chainr logs 0190a1b2-... load --attempt 1
  chainr logs 0190a1b2-... -f`,
    )
    .action(
      action(
        ctx,
        async (given: string, job: string | undefined, options: LogsOptions, command: Command) => {
          const client = makeClient(ctx, command);
          const uid = await resolveUid(client, given);
          const signal = ctx.interrupt.signal;
          const raw = isRaw(command);
          if (options.attempt !== undefined && job === undefined)
            throw new CliError(
              "--attempt reads one job's attempt: name the job (chainr logs UID JOB --attempt N)",
            );
          if (job !== undefined) {
            const why = noLogReason(await client.getRun(uid), job);
            if (why !== undefined) {
              ctx.stderr.write(`${why}\n`);
              return EXIT.ok;
            }
            const text = raw ? undefined : new StreamEscaper();
            const read = { follow: options.follow, attempt: options.attempt, signal };
            for await (const chunk of client.jobLog(uid, job, read)) {
              ctx.stdout.write(text ? text.push(chunk) : chunk);
            }
            if (text) ctx.stdout.write(text.flush());
            return EXIT.ok;
          }
          const run = await client.getRun(uid);
          if (options.follow && !isTerminalRun(run.status)) {
            await followAll(ctx, client, run, options.prefix, raw);
            return EXIT.ok;
          }
          const printer = new Printer(
            ctx,
            client,
            uid,
            run.jobs.map((j) => j.name),
            options.prefix,
            raw,
          );
          for (const name of startedJobs(run)) await printer.print(name, false, signal);
          return EXIT.ok;
        },
      ),
    );
}
