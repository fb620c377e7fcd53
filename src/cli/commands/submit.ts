/** `chainr submit -f pipeline.yaml [--param k=v] [--label k=v] [--watch] [-o json|yaml]` */
import type { Command } from 'commander';
import { collectKeyValue, type OutputFormat } from '../args.ts';
import type { CliContext } from '../context.ts';
import { action, EXIT, makeClient } from '../context.ts';
import { isRaw, outputOption, printObject, rawOption, serverOption } from './common.ts';
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
    .addOption(rawOption())
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
        const { readValidPipeline } = await import('../pipeline-file.ts');
        const pipeline = await readValidPipeline(options.file, ctx.stdin, {
          labels: options.label,
          refusal: '; nothing was submitted',
        });
        const client = makeClient(ctx, command);
        const run = await client.submit(pipeline, options.param);
        const uid = run.metadata.uid;
        // Created all the same: what may keep it waiting (no live worker for an executor).
        for (const warning of run.warnings ?? []) ctx.stderr.write(`warning: ${warning}\n`);
        if (!options.watch) {
          if (options.output) printObject(ctx.stdout, run, options.output);
          else
            ctx.stdout.write(
              `run ${uid} submitted (${run.status})\nfollow it: ${ctx.env.self} watch ${uid}\n`,
            );
          return EXIT.ok;
        }
        const code = await followRun(
          ctx,
          client,
          uid,
          options.output ? ctx.stderr : ctx.stdout,
          isRaw(command),
        );
        if (options.output && code !== EXIT.interrupted) {
          printObject(ctx.stdout, await client.getRun(uid), options.output);
        }
        return code;
      }),
    );
}
