/**
 * What every client command gets: the settings read once from the environment at the entry point,
 * the streams to write to, and one way of turning failures into a message and an exit code.
 */
import type { Command } from 'commander';
import { ApiError, ChainrClient, UnreachableError } from '../api/client.ts';
import { formatDetail } from './error-lines.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** Exit codes of the client commands; `submit --watch` exits with the run's outcome. */
export const EXIT = { ok: 0, failed: 1, canceled: 2, error: 3, interrupted: 130 } as const;

export interface CliEnv {
  /** CHAINR_SERVER */
  server?: string;
  /** CHAINR_TOKEN, sent as a bearer token */
  token?: string;
  /** NO_COLOR set, or TERM=dumb */
  noColor: boolean;
  /** FORCE_COLOR set to anything but 0 */
  forceColor: boolean;
  /**
   * How the user called chainr, for the commands it suggests: `npx chainr` when npm ran it (a
   * checkout where `npm link` was not run has no `chainr` on the PATH), else `chainr`.
   */
  self: string;
}

/** A writable terminal-or-not stream: process.stdout in use, a buffer in tests. */
export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface CliContext {
  env: CliEnv;
  stdout: Out;
  stderr: Out;
  stdin: NodeJS.ReadableStream;
  /** Aborted on SIGINT while a command runs, so that streams stop and the terminal is left clean. */
  interrupt: AbortController;
}

export function readCliEnv(env: NodeJS.ProcessEnv): CliEnv {
  const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  return {
    server: nonEmpty(env.CHAINR_SERVER),
    token: nonEmpty(env.CHAINR_TOKEN),
    noColor: nonEmpty(env.NO_COLOR) !== undefined || env.TERM === 'dumb',
    forceColor: nonEmpty(env.FORCE_COLOR) !== undefined && env.FORCE_COLOR !== '0',
    // npx runs chainr as the script `'chainr' ...`; a chainr that something else run by npx started
    // (a test runner, say) sees that other script here.
    self:
      env.npm_command === 'exec' && /^'?chainr'?(\s|$)/.test(env.npm_lifecycle_script ?? '')
        ? 'npx chainr'
        : 'chainr',
  };
}

/** Whether to colour what goes to a stream. */
export function useColor(env: CliEnv, out: Out): boolean {
  if (env.forceColor) return true;
  return !env.noColor && out.isTTY === true;
}

/** A failure with its own message and exit code (bad input, a file that cannot be read...). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
    /** Further lines, each printed on its own. */
    readonly lines: string[] = [],
  ) {
    super(message);
  }
}

/** How long a command waits for an answer that is not a stream. */
const REQUEST_TIMEOUT_MS = 30_000;

/** `http://127.0.0.1:8080`; a bare `host:port` gets `http://`, a trailing slash is dropped. */
export function normalizeServer(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`not a server address: "${raw}" (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`not a server address: "${raw}" (expected http:// or https://)`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** The client of the server named by --server (on the command or before it), else the environment. */
export function makeClient(ctx: CliContext, command: Command): ChainrClient {
  const flag = command.optsWithGlobals<{ server?: string }>().server;
  const raw = flag ?? ctx.env.server ?? DEFAULT_SERVER;
  let server: string;
  try {
    server = normalizeServer(raw);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return new ChainrClient({ server, token: ctx.env.token, timeoutMs: REQUEST_TIMEOUT_MS });
}

/** Prints a failure on stderr and answers the exit code. */
export function reportFailure(ctx: CliContext, err: unknown): number {
  const say = (line: string) => ctx.stderr.write(`${line}\n`);
  // Whatever broke once Ctrl-C was pressed broke because of it.
  if (ctx.interrupt.signal.aborted) return EXIT.interrupted;
  if (err instanceof UnreachableError) {
    say(
      `chainr: ${err.message}. Start one with \`chainr up\`, ` +
        'or point --server or CHAINR_SERVER at yours.',
    );
    return EXIT.error;
  }
  if (err instanceof ApiError) {
    // A pipeline's errors are listed one per line below; the message would repeat them all.
    const message = err.details.length > 0 ? err.message.split(':')[0] : err.message;
    say(`chainr: ${message}`);
    for (const detail of err.details) say(`  ${formatDetail(detail)}`);
    if (err.status === 401 || err.status === 403) say('  (is CHAINR_TOKEN set and valid?)');
    return EXIT.error;
  }
  if (err instanceof CliError) {
    say(`chainr: ${err.message}`);
    for (const line of err.lines) say(line);
    return err.exitCode;
  }
  say(
    `chainr: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return EXIT.error;
}

/** Wraps a command's body: its answer, or its failure's, becomes the process's exit code. */
export function action<A extends unknown[]>(
  ctx: CliContext,
  body: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    // Only the first Ctrl-C is ours (to stop cleanly); a second one ends the process as usual.
    const interrupt = () => ctx.interrupt.abort();
    process.once('SIGINT', interrupt);
    let code: number;
    try {
      code = await body(...args);
    } catch (err) {
      code = reportFailure(ctx, err);
    } finally {
      process.off('SIGINT', interrupt);
    }
    process.exitCode = code;
  };
}
