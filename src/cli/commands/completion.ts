/** `chainr completion bash|zsh`: prints the completion script of the whole command tree. */
import { Argument, type Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion.ts';
import type { CliContext } from '../context.ts';
import { action, EXIT } from '../context.ts';

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('Print a shell completion script (bash or zsh)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      `
Examples:
  source <(chainr completion bash)                 # this bash session; add it to ~/.bashrc
  chainr completion zsh > "\${fpath[1]}/_chainr"    # zsh, from the next session on`,
    )
    .action(
      action(ctx, (shell: 'bash' | 'zsh') => {
        ctx.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
        return Promise.resolve(EXIT.ok);
      }),
    );
}
