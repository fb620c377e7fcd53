/** Options and output shared by the client commands. */
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { OUTPUT_FORMATS, type OutputFormat } from '../args.ts';
import type { Out } from '../context.ts';
import { DEFAULT_SERVER } from '../context.ts';

export function serverOption(): Option {
  return new Option(
    '-s, --server <url>',
    `chainr server (default: $CHAINR_SERVER, else ${DEFAULT_SERVER})`,
  );
}

export function rawOption(): Option {
  return new Option(
    '--raw',
    'print names, labels, reasons and logs as they are, their terminal control sequences too (otherwise shown escaped, as \\x1b)',
  );
}

/** Whether --raw was given (on the command or before it). */
export function isRaw(command: Command): boolean {
  return command.optsWithGlobals<{ raw?: boolean }>().raw === true;
}

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'print the object as json or yaml').choices(
    OUTPUT_FORMATS,
  );
}

/** Prints an API object as JSON or YAML, for scripts. */
export function printObject(out: Out, value: unknown, format: OutputFormat): void {
  out.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value));
}

export function printLines(out: Out, lines: string[]): void {
  for (const line of lines) out.write(`${line}\n`);
}
