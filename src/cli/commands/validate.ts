/** `chainr validate -f pipeline.yaml`: the API's checks, offline, with file:line:column. */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { action, CliError, EXIT } from '../context.ts';
import { printLines } from './common.ts';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('Check pipeline files by the same rules as the server, without a server')
    .requiredOption('-f, --file <path>', 'a pipeline file (repeatable); - reads stdin', collect)
    .option('-q, --quiet', 'print nothing for valid files')
    .addHelpText(
      'after',
      `
Each error is printed as file:line:column: path: message, the format editors and CI systems
link to the file. Exit code: 0 when every file is valid, 1 when one is not, 3 when one cannot
be read.

Examples:
  chainr validate -f pipeline.yaml
  chainr validate -f a.yaml -f b.json`,
    )
    .action(
      action(ctx, async (options: { file: string[]; quiet?: boolean }) => {
        // Loaded here: compiling the schema takes a moment that other commands need not wait.
        const { checkPipelineSource, readPipelineSource } = await import('../pipeline-file.ts');
        let code: number = EXIT.ok;
        for (const path of options.file) {
          let source;
          try {
            source = await readPipelineSource(path, ctx.stdin);
          } catch (err) {
            throw new CliError((err as Error).message);
          }
          const checked = checkPipelineSource(source);
          if (checked.ok) {
            const n = Object.keys(checked.pipeline.jobs).length;
            if (!options.quiet) {
              ctx.stdout.write(`${source.name}: valid pipeline (${n} job${n === 1 ? '' : 's'})\n`);
            }
          } else {
            printLines(ctx.stdout, checked.lines);
            code = EXIT.failed;
          }
        }
        return code;
      }),
    );
}
