/**
 * The chainr command's entry point: reads the client settings from the environment once, builds
 * the command tree and runs it. The services read their own configuration when they start.
 */
import { readCliEnv, type CliContext } from './context.ts';
import { buildProgram } from './program.ts';

// `chainr logs ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const ctx: CliContext = {
  env: readCliEnv(process.env),
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  interrupt: new AbortController(),
};

await buildProgram(ctx).parseAsync();
