/**
 * Masks secret values in a job's log lines as `***`, as GitHub Actions does. The log is read line
 * by line, so a value the job wrote in several pieces is whole once its line is; a multi-line
 * value is masked line by line (each of its lines wherever it appears), since the log never holds
 * two lines together. Pure.
 */

export const MASK = '***';

export class SecretMask {
  /** Every non-empty line of every value, longest first (so a value containing another goes whole). */
  private readonly patterns: string[];

  constructor(values: readonly string[]) {
    const lines = values.flatMap((value) => value.split(/\r?\n/)).filter((l) => l !== '');
    this.patterns = [...new Set(lines)].sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * The text with every occurrence masked. `cut`: the text is the start of a longer line whose
   * rest was dropped, so a value that begins at its end (and went on in the dropped part) is
   * masked too.
   */
  apply(text: string, cut = false): string {
    let out = text;
    for (const pattern of this.patterns)
      if (out.includes(pattern)) out = out.split(pattern).join(MASK);
    if (!cut) return out;
    for (let start = Math.max(0, out.length - this.longest + 1); start < out.length; start += 1) {
      const tail = out.slice(start);
      if (this.patterns.some((p) => p.startsWith(tail))) return out.slice(0, start) + MASK;
    }
    return out;
  }

  private get longest(): number {
    return this.patterns[0]?.length ?? 0;
  }
}
