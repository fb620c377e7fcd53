/**
 * Interleaved logs of several jobs, `docker compose logs` style: every line prefixed with its
 * job's name, padded to a common width, in a colour of its own. Pure.
 */
import { paint, type Style } from './format.ts';

const PALETTE: Style[] = ['cyan', 'yellow', 'green', 'magenta', 'blue', 'red'];

/** The colour of a job, by its position in the run, so that it is the same on every call. */
export function jobStyle(index: number): Style {
  return PALETTE[index % PALETTE.length] ?? 'cyan';
}

export function prefix(name: string, width: number, style: Style, color: boolean): string {
  return paint(`${name.padEnd(width)} |`, style, color);
}

/**
 * Splits a job's text stream into lines and prefixes each; holds a partial last line back until
 * it is completed (or flushed), so that lines of different jobs never mix mid-line.
 */
export class LinePrefixer {
  private partial = '';
  constructor(private readonly head: string) {}

  push(chunk: string): string {
    const text = this.partial + chunk;
    const end = text.lastIndexOf('\n');
    if (end === -1) {
      this.partial = text;
      return '';
    }
    this.partial = text.slice(end + 1);
    return text
      .slice(0, end)
      .split('\n')
      .map((line) => `${this.head} ${line}\n`)
      .join('');
  }

  /** The partial last line, if any, completed with a newline. */
  flush(): string {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? '' : `${this.head} ${rest}\n`;
  }
}
