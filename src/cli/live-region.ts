/**
 * A block of lines redrawn in place at the bottom of a terminal: the cursor goes back up over the
 * previous frame and everything below it is cleared, so a frame may shrink or grow. The caller
 * keeps frames within the screen (lines cut to the width, no more lines than rows), since a line
 * that wraps or scrolls away cannot be reached by moving the cursor up.
 */
import type { Out } from './context.ts';

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_TO_END = '\x1b[0J';

export class LiveRegion {
  private height = 0;
  private active = false;

  constructor(private readonly out: Out) {}

  draw(lines: string[]): void {
    const up = this.height > 0 ? `\r\x1b[${this.height}A` : '\r';
    this.out.write(
      `${this.active ? '' : HIDE_CURSOR}${up}${CLEAR_TO_END}${lines.map((l) => `${l}\n`).join('')}`,
    );
    this.active = true;
    this.height = lines.length;
  }

  /** Leaves the last frame on screen and the cursor visible below it. */
  done(): void {
    if (this.active) this.out.write(SHOW_CURSOR);
    this.active = false;
    this.height = 0;
  }
}
