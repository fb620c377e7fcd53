/** `chainr submit -f pipeline.yaml [--param k=v] [--label k=v] [--watch] [-o json|yaml]` */
import type { Command } from 'commander';
import { collectKeyValue, type OutputFormat } from '../args.ts';
import type { CliContext } from '../context.ts';
import { action, CliError, EXIT, makeClient } from '../context.ts';
import { outputOption, printObject, serverOption } from './common.ts';
import { followRun } from './watch.ts';

interface SubmitOptions {
  file: string;
  param?: Record<string, string>;
  label?: Record<string, string>;
  watch?: boolean;
  output?: OutputFormat;
}

export function registerSubmit(program: Command, ctx: CliContext): void {
  program
    .command('submit')
    .description('Schedule a run of a pipeline file (YAML or JSON), and optionally follow it')
    .requiredOption('-f, --file <path>', 'the pipeline file; - reads it from stdin')
    .option('-p, --param <key=value>', 'a parameter of the run (repeatable)', collectKeyValue)
    .option(
      '-l, --label <key=value>',
      "a label added to the pipeline's metadata.labels (repeatable)",
      collectKeyValue,
    )
    .option('-w, --watch', "follow the run until it ends and exit with the run's outcome")
    .addOption(outputOption())
    .addOption(serverOption())
    .addHelpText(
      'after',
      `
The pipeline is checked first, by the same rules as the server, and its errors are printed as
file:line:column: path: message.

With --watch, the exit code is the run's: 0 SUCCESSFUL, 1 FAILED, 2 CANCELED, and 3 for a
chainr or connection error — so a CI step fails when the run fails. On a terminal the jobs are
drawn live; otherwise (CI logs) each transition is printed as a timestamped line. With --output,
the progress goes to stderr and the final run is printed on stdout.

Examples:
  chainr submit -f examples/fallback.yaml --watch
  chainr submit -f nightly.yaml --param date=2024-05-01 --label team=data
  uid=$(chainr submit -f build.json -o json | jq -r .metadata.uid)
  generate-pipeline | chainr submit -f - --watch`,
    )
    .action(
      action(ctx, async (options: SubmitOptions, command: Command) => {
        // Loaded here: compiling the schema takes a moment that other commands need not wait.
        const { checkPipelineSource, readPipelineSource } = await import('../pipeline-file.ts');
        let source;
        try {
          source = await readPipelineSource(options.file, ctx.stdin);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        // The server applies its own job limit; the file is only checked for what it says.
        const checked = checkPipelineSource(source, {
          labels: options.label,
          maxJobs: Number.MAX_SAFE_INTEGER,
        });
        if (!checked.ok) {
          const n = checked.lines.length;
          throw new CliError(
            `${source.name} is not a valid pipeline (${n} error${n === 1 ? '' : 's'}); nothing was submitted`,
            EXIT.error,
            checked.lines,
          );
        }
        const client = makeClient(ctx, command);
        const run = await client.submit(checked.pipeline, options.param);
        const uid = run.metadata.uid;
        if (!options.watch) {
          if (options.output) printObject(ctx.stdout, run, options.output);
          else
            ctx.stdout.write(
              `run ${uid} submitted (${run.status})\nfollow it: chainr watch ${uid}\n`,
            );
          return EXIT.ok;
        }
        const code = await followRun(ctx, client, uid, options.output ? ctx.stderr : ctx.stdout);
        if (options.output && code !== EXIT.interrupted) {
          printObject(ctx.stdout, await client.getRun(uid), options.output);
        }
        return code;
      }),
    );
}
