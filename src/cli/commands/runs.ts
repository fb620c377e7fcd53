/** `chainr runs list|get|cancel|retry|resubmit` */
import type { Command } from 'commander';
import { positiveInteger, runStatus, type OutputFormat } from '../args.ts';
import type { Run } from '../../api/wire.ts';
import type { CliContext } from '../context.ts';
import { action, EXIT, makeClient, useColor } from '../context.ts';
import { escapeStrings } from '../format.ts';
import { renderRunDetail, renderRunTable } from '../render-runs.ts';
import { isRaw, outputOption, printLines, printObject, rawOption, serverOption } from './common.ts';
import { followRun } from './watch.ts';
import { resolveUid } from '../uids.ts';

interface ListOptions {
  status?: string;
  selector?: string;
  name?: string;
  limit: number;
  continue?: string;
  output?: OutputFormat;
}

interface ActOptions {
  watch?: boolean;
  force?: boolean;
  output?: OutputFormat;
}

/** The command line of the next page: the same filters, the next cursor, quoted for a shell. */
export function nextPageArgs(options: ListOptions, next: string): string {
  const args = ['runs', 'list'];
  if (options.status) args.push('--status', options.status);
  if (options.selector) args.push('-l', options.selector);
  if (options.name) args.push('--name', options.name);
  args.push('--limit', String(options.limit), '--continue', next);
  return args.map(shellWord).join(' ');
}

const shellWord = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

function registerList(runs: Command, ctx: CliContext): void {
  runs
    .command('list')
    .alias('ls')
    .description('List runs, newest first')
    .option(
      '--status <status>',
      'only runs in this status (PENDING, RUNNING, FAILED...)',
      runStatus,
    )
    .option('-l, --selector <selector>', 'only runs whose labels match, e.g. app=etl,tier!=dev')
    .option('--name <name>', 'only runs of pipelines with this metadata.name')
    .option('--limit <n>', 'at most this many runs', positiveInteger, 20)
    .option('--continue <token>', 'the next page, from the hint under a full page')
    .addOption(outputOption())
    .addOption(rawOption())
    .addOption(serverOption())
    .addHelpText(
      'after',
      `
Examples:
  chainr runs list
  chainr runs list --status failed --limit 5
  chainr runs list -l app=etl,tier!=dev -o json`,
    )
    .action(
      action(ctx, async (options: ListOptions, command: Command) => {
        const client = makeClient(ctx, command);
        const list = await client.listRuns({
          limit: options.limit,
          continue: options.continue,
          status: options.status,
          selector: options.selector,
          name: options.name,
        });
        if (options.output) {
          printObject(ctx.stdout, list, options.output);
          return EXIT.ok;
        }
        printLines(
          ctx.stdout,
          renderRunTable(
            isRaw(command) ? list.items : escapeStrings(list.items),
            Date.now(),
            useColor(ctx.env, ctx.stdout),
          ),
        );
        const next = list.metadata.continue;
        if (next) ctx.stderr.write(`more: ${ctx.env.self} ${nextPageArgs(options, next)}\n`);
        return EXIT.ok;
      }),
    );
}

function registerGet(runs: Command, ctx: CliContext): void {
  runs
    .command('get')
    .description('Show a run: its status, reason, times, and every job with its duration')
    .argument(
      '<uid>',
      'the run: its uid, or its first or last characters (the UI shows the last 8)',
    )
    .addOption(outputOption())
    .addOption(rawOption())
    .addOption(serverOption())
    .addHelpText(
      'after',
      '\nExamples:\n  chainr runs get 0190a1b2-...\n  chainr runs get 0190a1b2-... -o yaml',
    )
    .action(
      action(ctx, async (uid: string, options: ActOptions, command: Command) => {
        const client = makeClient(ctx, command);
        const run = await client.getRun(await resolveUid(client, uid));
        if (options.output) printObject(ctx.stdout, run, options.output);
        else {
          const shown = isRaw(command) ? run : escapeStrings(run);
          printLines(ctx.stdout, renderRunDetail(shown, Date.now(), useColor(ctx.env, ctx.stdout)));
        }
        return EXIT.ok;
      }),
    );
}

/** cancel, retry and resubmit: one POST, then the run it answers (followed with --watch). */
function registerAct(
  runs: Command,
  ctx: CliContext,
  spec: {
    name: 'cancel' | 'retry' | 'resubmit';
    description: string;
    done: (run: Run, uid: string) => string;
    watchable: boolean;
    example: string;
  },
): void {
  const command = runs
    .command(spec.name)
    .description(spec.description)
    .argument(
      '<uid>',
      'the run: its uid, or its first or last characters (the UI shows the last 8)',
    );
  if (spec.watchable) {
    command.option('-w, --watch', "follow the run until it ends and exit with the run's outcome");
  }
  if (spec.name === 'cancel') {
    command.option('--force', 'stop its cleanup jobs too (as a second cancel does)');
  }
  command
    .addOption(outputOption())
    .addOption(rawOption())
    .addOption(serverOption())
    .addHelpText('after', `\nExample:\n  ${spec.example}`)
    .action(
      action(ctx, async (given: string, options: ActOptions, invoked: Command) => {
        const client = makeClient(ctx, invoked);
        const uid = await resolveUid(client, given);
        const run =
          spec.name === 'cancel'
            ? await client.cancelRun(uid, options.force === true)
            : spec.name === 'retry'
              ? await client.retryRun(uid)
              : await client.resubmitRun(uid);
        if (!options.watch) {
          if (options.output) printObject(ctx.stdout, run, options.output);
          else ctx.stdout.write(`${spec.done(run, uid)}\n`);
          return EXIT.ok;
        }
        // With --output, stdout is for the final object alone; the progress goes to stderr.
        const progress = options.output ? ctx.stderr : ctx.stdout;
        progress.write(`${spec.done(run, uid)}\n`);
        const code = await followRun(ctx, client, run.metadata.uid, progress, isRaw(invoked));
        if (options.output && code !== EXIT.interrupted) {
          printObject(ctx.stdout, await client.getRun(run.metadata.uid), options.output);
        }
        return code;
      }),
    );
}

export function registerRuns(program: Command, ctx: CliContext): void {
  const runs = program
    .command('runs')
    .description('List, show, cancel, retry and resubmit runs')
    .addHelpText('after', '\nExample:\n  chainr runs list --status FAILED');
  registerList(runs, ctx);
  registerGet(runs, ctx);
  registerAct(runs, ctx, {
    name: 'cancel',
    description:
      'Cancel a run: stop its running jobs, mark the waiting ones CANCELED, run its cleanup jobs (every dependency always), then end it CANCELED',
    done: (run, uid) =>
      run.status === 'CANCELED'
        ? `run ${uid} canceled`
        : `run ${uid} canceling: ${run.reason ?? run.status}`,
    watchable: false,
    example: 'chainr runs cancel 0190a1b2-...',
  });
  registerAct(runs, ctx, {
    name: 'retry',
    description: 'Run the failed, skipped and canceled jobs of an ended run again, in the same run',
    done: (run, uid) => `run ${uid} retried (${run.status})`,
    watchable: true,
    example: 'chainr runs retry 0190a1b2-... --watch',
  });
  registerAct(runs, ctx, {
    name: 'resubmit',
    description: 'Schedule a new run of the same pipeline (and parameters) as a run',
    done: (run, uid) => `run ${run.metadata.uid} submitted, a new run of ${uid} (${run.status})`,
    watchable: true,
    example: 'chainr runs resubmit 0190a1b2-... --watch',
  });
}
