/** `chainr validate pipeline.yaml`: the API's checks, offline, with file:line:column. */
import type { Command } from 'commander';
import type { Pipeline } from '../../core/types.ts';
import type { CliContext } from '../context.ts';
import { action, CliError, EXIT, makeClient } from '../context.ts';
import { printLines } from './common.ts';

/**
 * The jobs of a pipeline whose executor (named in the file) no live worker of the server serves,
 * one warning per executor, as the server words them at submission.
 */
function unservedWarnings(pipeline: Pipeline, served: Set<string>): string[] {
  const byExecutor = new Map<string, string[]>();
  for (const [name, job] of Object.entries(pipeline.jobs)) {
    if (job.executor === undefined || served.has(job.executor)) continue;
    byExecutor.set(job.executor, [...(byExecutor.get(job.executor) ?? []), name]);
  }
  const list = [...served].sort().join(', ');
  const workers = list ? `live workers serve: ${list}` : 'no worker is running';
  return [...byExecutor].map(
    ([executor, jobs]) =>
      `${jobs.length === 1 ? 'job' : 'jobs'} ${jobs.join(', ')}: no live worker serves the "${executor}" executor (${workers})`,
  );
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description(
      'Check pipeline files by the same rules as the server, without a server (unless --server)',
    )
    .argument('[files...]', 'pipeline files; - reads stdin')
    .option('-f, --file <path>', 'a pipeline file (repeatable), as the arguments are', collect)
    .option('-q, --quiet', 'print nothing for valid files')
    .addHelpText(
      'after',
      `
Each error is printed as file:line:column: path: message, the format editors and CI systems
link to the file. With --server, the server is also asked which executors its live workers
serve, and a job naming an executor none serves is warned about on stderr (the file is valid:
such a job would wait). Exit code: 0 when every file is valid, 1 when one is not, 3 when one
cannot be read.

Examples:
  chainr validate pipeline.yaml
  chainr validate a.yaml b.json
  generate-pipeline | chainr validate -
  chainr validate pipeline.yaml --server http://chainr:8080`,
    )
    .action(
      action(
        ctx,
        async (
          files: string[],
          options: { file?: string[]; quiet?: boolean },
          command: Command,
        ) => {
          const paths = [...files, ...(options.file ?? [])];
          if (paths.length === 0) {
            throw new CliError('no pipeline file given (chainr validate pipeline.yaml)');
          }
          // Loaded here: compiling the schema takes a moment that other commands need not wait.
          const { checkPipelineSource, readPipelineSource } = await import('../pipeline-file.ts');
          // Only when asked: validation itself needs no server.
          const served =
            command.optsWithGlobals<{ server?: string }>().server === undefined
              ? undefined
              : new Set(
                  (await makeClient(ctx, command).listInstances()).items.flatMap(
                    (i) => (i.service === 'work' && i.executors) || [],
                  ),
                );
          let code: number = EXIT.ok;
          for (const path of paths) {
            let source;
            try {
              source = await readPipelineSource(path, ctx.stdin);
            } catch (err) {
              throw new CliError((err as Error).message);
            }
            const checked = checkPipelineSource(source);
            if (checked.ok) {
              for (const warning of served ? unservedWarnings(checked.pipeline, served) : [])
                ctx.stderr.write(`${source.name}: warning: ${warning}\n`);
              const n = Object.keys(checked.pipeline.jobs).length;
              if (!options.quiet) {
                ctx.stdout.write(
                  `${source.name}: valid pipeline (${n} job${n === 1 ? '' : 's'})\n`,
                );
              }
            } else {
              printLines(ctx.stdout, checked.lines);
              code = EXIT.failed;
            }
          }
          return code;
        },
      ),
    );
}
