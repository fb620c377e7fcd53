/** `chainr watch UID`, and the following of a run that `submit --watch` and `runs retry --watch` share. */
import type { Command } from 'commander';
import type { ChainrClient } from '../../api/client.ts';
import type { CliContext, Out } from '../context.ts';
import { action, EXIT, makeClient, useColor } from '../context.ts';
import { exitCodeOf } from '../render-watch.ts';
import { LiveView, PlainView, ServerClock, watchRun, type WatchView } from '../watch.ts';
import { isRaw, rawOption, serverOption } from './common.ts';
import { resolveUid } from '../uids.ts';

/**
 * Follows a run to its end on `out` — live on a terminal, plain lines otherwise — and answers
 * the run's exit code (0 SUCCESSFUL, 1 FAILED, 2 CANCELED).
 */
export async function followRun(
  ctx: CliContext,
  client: ChainrClient,
  uid: string,
  out: Out,
  raw: boolean,
): Promise<number> {
  const clock = new ServerClock();
  const view: WatchView = out.isTTY
    ? new LiveView(out, useColor(ctx.env, out), clock, ctx.env.self)
    : new PlainView(out, clock, ctx.env.self);
  try {
    const state = await watchRun(client, uid, view, {
      signal: ctx.interrupt.signal,
      clock,
      raw,
    });
    view.finish(state);
    return exitCodeOf(state);
  } catch (err) {
    view.stop();
    if (ctx.interrupt.signal.aborted) {
      ctx.stderr.write(
        `\nStopped watching; the run goes on. Follow it again: ${ctx.env.self} watch ${uid}\n`,
      );
      return EXIT.interrupted;
    }
    throw err;
  }
}

export function registerWatch(program: Command, ctx: CliContext): void {
  program
    .command('watch')
    .description("Follow a run live until it ends; exit with the run's outcome")
    .argument(
      '<uid>',
      'the run: its uid, or its first or last characters (the UI shows the last 8)',
    )
    .addOption(rawOption())
    .addOption(serverOption())
    .addHelpText(
      'after',
      `
Exit codes: 0 SUCCESSFUL, 1 FAILED, 2 CANCELED, 3 chainr or connection error.
On a terminal the view is redrawn in place; otherwise each transition is one timestamped line.

Examples:
  chainr watch 0190a1b2-...
  chainr watch 0190a1b2-... | tee run.log`,
    )
    .action(
      action(ctx, async (uid: string, _options: unknown, command: Command) => {
        const client = makeClient(ctx, command);
        return followRun(ctx, client, await resolveUid(client, uid), ctx.stdout, isRaw(command));
      }),
    );
}
