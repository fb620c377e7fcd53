/** Options and output shared by the client commands. */
import { Option } from 'commander';
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
