/**
 * Following a run to its end over the event stream: reconnects when the connection drops (a
 * fresh snapshot makes up for whatever was missed), and reads the run once more at the end,
 * since events do not carry exit codes and only the run itself is authoritative.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminalRun } from '../core/types.ts';
import type { ChainrClient } from '../api/client.ts';
import { UnreachableError } from '../api/client.ts';
import type { Out } from './context.ts';
import { escapeStrings } from './format.ts';
import { LiveRegion } from './live-region.ts';
import { renderLive, renderSummary, renderTransition, renderWatchStart } from './render-watch.ts';
import type { RunState, Transition } from './watch-state.ts';
import { applyTransition, diffStates, fromRun, historyOf } from './watch-state.ts';

export interface WatchView {
  update(state: RunState, transitions: Transition[]): void;
  /** A passing condition to show (`reconnecting…`), or undefined once it is over. */
  note(text: string | undefined): void;
  finish(state: RunState): void;
  /** Leaves the terminal clean when the watch is interrupted. */
  stop(): void;
}

/** Estimates the server's clock from live events, so running durations do not drift by skew. */
export class ServerClock {
  private offset: number | undefined;
  observe(serverTime: number, localTime = Date.now()): void {
    const offset = localTime - serverTime;
    // The smallest offset is the least delayed event: the best estimate.
    if (this.offset === undefined || offset < this.offset) this.offset = offset;
  }
  now(localTime = Date.now()): number {
    return localTime - (this.offset ?? 0);
  }
}

export interface WatchOptions {
  signal: AbortSignal;
  clock: ServerClock;
  /** How long to keep reconnecting after the connection was lost. */
  retryForMs?: number;
  /** Show the server's text as it is, control sequences included (see escapeStrings). */
  raw?: boolean;
}

export async function watchRun(
  client: ChainrClient,
  uid: string,
  view: WatchView,
  options: WatchOptions,
): Promise<RunState> {
  const { signal, clock } = options;
  const shown = <T>(value: T): T => (options.raw ? value : escapeStrings(value));
  let state: RunState | undefined;
  let lostSince: number | undefined;
  let attempt = 0;
  const advance = (next: RunState) => {
    if (next === state) return;
    view.update(next, diffStates(state, next));
    state = next;
  };
  for (;;) {
    try {
      for await (const item of client.runEvents(uid, { signal })) {
        if (lostSince !== undefined) view.note(undefined);
        lostSince = undefined;
        attempt = 0;
        if (item.kind === 'snapshot') advance(fromRun(shown(item.run)));
        else if (item.kind === 'transition' && state) {
          clock.observe(item.event.time);
          advance(applyTransition(state, shown(item.event)));
        }
      }
      if (state && isTerminalRun(state.status)) {
        advance(fromRun(shown(await client.getRun(uid))));
        return state;
      }
      throw new UnreachableError(client.server, 'the event stream closed before the run ended');
    } catch (err) {
      if (!(err instanceof UnreachableError)) throw err;
      lostSince ??= Date.now();
      if (Date.now() - lostSince > (options.retryForMs ?? 60_000)) throw err;
      view.note(`connection lost (${err.reason}); reconnecting…`);
      await sleep(Math.min(3000, 250 * 2 ** attempt++), undefined, { signal });
    }
  }
}

/** Timestamped transition lines, for logs and pipes. */
export class PlainView implements WatchView {
  private started = false;
  private lastNote: string | undefined;
  constructor(
    private readonly out: Out,
    private readonly clock: ServerClock,
    /** How the user calls chainr, for the command the summary suggests. */
    private readonly self = 'chainr',
  ) {}

  update(state: RunState, transitions: Transition[]): void {
    // On attaching, what happened before and where each job stands; then what changes.
    const lines = this.started ? transitions : historyOf(state, this.clock.now());
    if (!this.started) this.out.write(`${renderWatchStart(state, this.clock.now())}\n`);
    this.started = true;
    for (const t of lines) this.out.write(`${renderTransition(t)}\n`);
  }
  note(text: string | undefined): void {
    // once per condition, not once per reconnection attempt
    if (text && text !== this.lastNote) {
      this.out.write(`${new Date(this.clock.now()).toISOString()} ${text}\n`);
    }
    this.lastNote = text;
  }
  finish(state: RunState): void {
    for (const line of renderSummary(state, false, this.self)) this.out.write(`${line}\n`);
  }
  stop(): void {}
}

/** The live view on a terminal: redrawn on every change and ten times a second for the spinner. */
export class LiveView implements WatchView {
  private readonly region: LiveRegion;
  private state: RunState | undefined;
  private noteText: string | undefined;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Out,
    private readonly color: boolean,
    private readonly clock: ServerClock,
    private readonly self = 'chainr',
  ) {
    this.region = new LiveRegion(out);
  }

  update(state: RunState): void {
    this.state = state;
    this.timer ??= setInterval(() => {
      this.frame++;
      this.draw();
    }, 100).unref();
    this.draw();
  }
  note(text: string | undefined): void {
    this.noteText = text;
    this.draw();
  }
  finish(state: RunState): void {
    this.state = state;
    this.noteText = undefined;
    this.draw();
    this.stop();
    this.out.write('\n');
    for (const line of renderSummary(state, this.color, this.self)) this.out.write(`${line}\n`);
  }
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.region.done();
  }

  private draw(): void {
    if (!this.state) return;
    this.region.draw(
      renderLive(this.state, {
        now: this.clock.now(),
        frame: this.frame,
        color: this.color,
        // A terminal of unknown size (0 under some emulations) is taken as the classic 80x24.
        columns: this.out.columns || 80,
        rows: this.out.rows || 24,
        note: this.noteText,
      }),
    );
  }
}
