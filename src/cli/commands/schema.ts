/** `chainr schema`: the pipeline JSON Schema, for editors and other tools. */
import type { Command } from 'commander';
// The file itself, as the server serves it (not core/schema.ts, which also compiles it).
import pipelineSchema from '../../core/pipeline.schema.json' with { type: 'json' };
import type { CliContext } from '../context.ts';
import { action, EXIT } from '../context.ts';

export function registerSchema(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description('Print the JSON Schema of pipelines (the one the server validates with)')
    .addHelpText(
      'after',
      `
Examples:
  chainr schema > pipeline.schema.json
  # then, first line of a pipeline file, for the YAML language server (VS Code, Neovim...):
  # yaml-language-server: $schema=./pipeline.schema.json`,
    )
    .action(
      action(ctx, () => {
        ctx.stdout.write(`${JSON.stringify(pipelineSchema, null, 2)}\n`);
        return Promise.resolve(EXIT.ok);
      }),
    );
}
