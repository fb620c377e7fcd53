/** `chainr logs UID [JOB] [-f]`: one job's log, or every job's, prefixed and interleaved. */
import type { Command } from 'commander';
import { isTerminalRun } from '../../core/types.ts';
import type { Run } from '../api.ts';
import type { ChainrClient } from '../client.ts';
import type { CliContext } from '../context.ts';
import { action, EXIT, makeClient, useColor } from '../context.ts';
import { epoch } from '../format.ts';
import { jobStyle, LinePrefixer, prefix } from '../log-lines.ts';
import { ServerClock, watchRun, type WatchView } from '../watch.ts';
import type { RunState } from '../watch-state.ts';
import { serverOption } from './common.ts';

interface LogsOptions {
  follow?: boolean;
  prefix: boolean;
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
  ) {
    this.width = Math.max(...names.map((n) => n.length));
  }

  async print(job: string, follow: boolean, signal: AbortSignal): Promise<void> {
    const color = useColor(this.ctx.env, this.ctx.stdout);
    const index = this.names.indexOf(job);
    const lines = new LinePrefixer(prefix(job, this.width, jobStyle(index), color));
    for await (const chunk of this.client.jobLog(this.uid, job, { follow, signal })) {
      this.ctx.stdout.write(this.withPrefix ? lines.push(chunk) : chunk);
    }
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
async function followAll(ctx: CliContext, client: ChainrClient, run: Run, withPrefix: boolean) {
  const uid = run.metadata.uid;
  const printer = new Printer(
    ctx,
    client,
    uid,
    run.jobs.map((j) => j.name),
    withPrefix,
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
    await watchRun(client, uid, view, { signal, clock: new ServerClock() });
  } catch (err) {
    fail(err);
  }
  await Promise.all(followed.values());
  if (failure !== undefined) throw failure;
}

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description("Print a job's log, or every job's log prefixed with the job's name")
    .argument('<uid>', 'the run')
    .argument('[job]', 'one job of the run; all of them when left out')
    .option('-f, --follow', 'keep printing new lines until the job (or the whole run) ends')
    .option('--no-prefix', "with every job's log, leave the job names out")
    .addOption(serverOption())
    .addHelpText(
      'after',
      `
Without a job, the logs of the jobs that ran are printed one job after the other, each line
prefixed with its job's name; with --follow they are interleaved as they are written.

Examples:
  chainr logs 0190a1b2-... load
  chainr logs 0190a1b2-... -f`,
    )
    .action(
      action(
        ctx,
        async (uid: string, job: string | undefined, options: LogsOptions, command: Command) => {
          const client = makeClient(ctx, command);
          const signal = ctx.interrupt.signal;
          if (job !== undefined) {
            for await (const chunk of client.jobLog(uid, job, { follow: options.follow, signal })) {
              ctx.stdout.write(chunk);
            }
            return EXIT.ok;
          }
          const run = await client.getRun(uid);
          if (options.follow && !isTerminalRun(run.status)) {
            await followAll(ctx, client, run, options.prefix);
            return EXIT.ok;
          }
          const printer = new Printer(
            ctx,
            client,
            uid,
            run.jobs.map((j) => j.name),
            options.prefix,
          );
          for (const name of startedJobs(run)) await printer.print(name, false, signal);
          return EXIT.ok;
        },
      ),
    );
}
