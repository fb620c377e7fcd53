/** The chainr command tree: the services, and the client commands of a running chainr. */
import { Command, type CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { registerArtifacts } from './commands/artifacts.ts';
import { registerChaos } from './commands/chaos.ts';
import { serverOption } from './commands/common.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerLogs } from './commands/logs.ts';
import { registerPodArtifacts } from './commands/pod-artifacts.ts';
import { registerRuns } from './commands/runs.ts';
import { registerSchedules } from './commands/schedules.ts';
import { registerSchema } from './commands/schema.ts';
import { registerServices } from './commands/services.ts';
import { registerSubmit } from './commands/submit.ts';
import { registerToken } from './commands/token.ts';
import { registerValidate } from './commands/validate.ts';
import { registerWatch } from './commands/watch.ts';
import type { CliContext } from './context.ts';
import { EXIT } from './context.ts';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('chainr')
    .description('Chains container jobs into pipelines and runs them, with a monitoring API.')
    .version(packageJson.version, '-V, --version')
    // Also accepted before the command (`chainr -s host:8080 runs list`), as kubectl does.
    .addOption(serverOption())
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Client commands talk to the server in --server, else $CHAINR_SERVER, else http://127.0.0.1:8080
(where \`chainr up\` listens), sending $CHAINR_TOKEN as a bearer token when it is set.

Examples:
  chainr up                                   # start chainr on this machine
  chainr submit -f examples/fallback.yaml --watch
  chainr runs list --status FAILED
  chainr logs <uid> -f`,
    );

  program.commandsGroup('Services:');
  registerServices(program);

  // Usage errors of the client commands exit with 3 ("a chainr error"): 1 and 2 mean a failed
  // or canceled run to a CI step. Set after the services, so that theirs are left as they were.
  program.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT.error);
  });

  program.commandsGroup('Runs:');
  registerSubmit(program, ctx);
  registerWatch(program, ctx);
  registerRuns(program, ctx);
  registerLogs(program, ctx);
  registerSchedules(program, ctx);
  registerArtifacts(program, ctx);
  program.commandsGroup('Pipelines:');
  registerValidate(program, ctx);
  registerSchema(program, ctx);
  program.commandsGroup('Shell:');
  registerCompletion(program, ctx);
  program.commandsGroup('Auth:');
  registerToken(program, ctx);
  program.commandsGroup('Resilience:');
  registerChaos(program, ctx);
  registerPodArtifacts(program);
  return program;
}
