/** `chainr schedules list|create|pause|resume|delete`: cron schedules of pipelines. */
import type { Command } from 'commander';
import { collectKeyValue, type OutputFormat } from '../args.ts';
import type { Schedule } from '../../api/wire.ts';
import type { CliContext } from '../context.ts';
import { action, EXIT, makeClient } from '../context.ts';
import { escapeStrings, table } from '../format.ts';
import { outputOption, printLines, printObject, serverOption } from './common.ts';

interface CreateOptions {
  file: string;
  cron: string;
  timezone?: string;
  name?: string;
  param?: Record<string, string>;
  output?: OutputFormat;
}

function scheduleRows(items: Schedule[]): string[] {
  const rows = items.map((s) => [
    s.metadata.uid,
    s.metadata.name ?? s.pipeline.metadata?.name ?? '-',
    s.cron,
    s.timezone ?? 'UTC',
    s.paused ? 'paused' : 'active',
    s.nextRunAt ?? '-',
  ]);
  return table([['ID', 'NAME', 'CRON', 'TIMEZONE', 'STATE', 'NEXT RUN'], ...rows]);
}

export function registerSchedules(program: Command, ctx: CliContext): void {
  const schedules = program
    .command('schedules')
    .description('List, create, pause, resume and delete cron schedules of pipelines')
    .addHelpText(
      'after',
      '\nExamples:\n  chainr schedules list\n  chainr schedules create -f examples/nightly.yaml --cron "0 3 * * *" -p date=today',
    );

  schedules
    .command('list')
    .alias('ls')
    .description('Every schedule, newest first, with its state and next run')
    .addOption(outputOption())
    .addOption(serverOption())
    .action(
      action(ctx, async (options: { output?: OutputFormat }, command: Command) => {
        const list = await makeClient(ctx, command).listSchedules();
        if (options.output) printObject(ctx.stdout, list, options.output);
        else printLines(ctx.stdout, scheduleRows(escapeStrings(list.items)));
        return EXIT.ok;
      }),
    );

  schedules
    .command('create')
    .description('Run a pipeline file on a cron schedule')
    .requiredOption('-f, --file <path>', 'the pipeline file; - reads it from stdin')
    .requiredOption('--cron <expression>', '5 fields (minute hour day month weekday), or 6')
    .option('--timezone <zone>', 'an IANA time zone (default: UTC)')
    .option('--name <name>', "the schedule's name (default: the pipeline's metadata.name)")
    .option('-p, --param <key=value>', 'a parameter of every run (repeatable)', collectKeyValue)
    .addOption(outputOption())
    .addOption(serverOption())
    .action(
      action(ctx, async (options: CreateOptions, command: Command) => {
        const { readValidPipeline } = await import('../pipeline-file.ts');
        const pipeline = await readValidPipeline(options.file, ctx.stdin, {
          refusal: '; no schedule was created',
        });
        const created = await makeClient(ctx, command).createSchedule({
          cron: options.cron,
          pipeline,
          ...(options.timezone !== undefined && { timezone: options.timezone }),
          ...(options.name !== undefined && { name: options.name }),
          ...(options.param !== undefined && { params: options.param }),
        });
        if (options.output) printObject(ctx.stdout, created, options.output);
        else {
          const next = created.nextRunAt ? `, next run ${created.nextRunAt}` : '';
          ctx.stdout.write(`schedule ${created.metadata.uid} created${next}\n`);
        }
        return EXIT.ok;
      }),
    );

  for (const change of ['pause', 'resume', 'delete'] as const) {
    const done = { pause: 'paused', resume: 'resumed', delete: 'deleted' }[change];
    schedules
      .command(change)
      .description(
        {
          pause: 'Pause a schedule: no run is created until it is resumed',
          resume: 'Resume a paused schedule',
          delete: 'Delete a schedule (the runs it created stay)',
        }[change],
      )
      .argument('<id>', 'the schedule')
      .addOption(serverOption())
      .action(
        action(ctx, async (id: string, _options: unknown, command: Command) => {
          const client = makeClient(ctx, command);
          if (change === 'pause') await client.pauseSchedule(id);
          else if (change === 'resume') await client.resumeSchedule(id);
          else await client.deleteSchedule(id);
          ctx.stdout.write(`schedule ${id} ${done}\n`);
          return EXIT.ok;
        }),
      );
  }
}
