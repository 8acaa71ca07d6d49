// `play --format pty`: replays a recording in this terminal with its real timing.
// Keys (when stdin is a terminal): space pause/resume, ←/→ seek 5 s (through the
// screen index, so rewinding is as quick as going forward), +/- speed, q quit. The
// recording is drawn through a headless terminal (replay-screen.ts), never passed
// through; a status line on the bottom row, outside the replayed screen, shows
// position, length, speed and state.
import { formatClock } from "../recording/format/clock.ts";
import { playerKey, type PlayerKey } from "./player-keys.ts";
import type { LoadedRecording } from "../recording/format/recording-reader.ts";
import { eventBytes } from "../recording/format/recording-event.ts";
import { ReplayScreen, type Viewport } from "./replay-screen.ts";
import { ScreenIndex } from "./screen-index.ts";
import { nextSpeed, seekTarget } from "../recording/format/timeline.ts";

const SEEK_MS = 5_000;
const TICK_MS = 50;
const STATUS_EVERY_MS = 250;

export interface PtyOptions {
  speed: number;
  fromMs: number;
  skipIdleMs?: number;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

export async function playPty(rec: LoadedRecording, opts: PtyOptions): Promise<void> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const index = new ScreenIndex(rec);
  const p = new Player(rec, index, opts, output);
  const interactive = input.isTTY === true && output.isTTY === true;
  const onResize = () => p.redraw();
  output.on("resize", onResize);
  if (interactive) {
    input.setRawMode(true);
    input.resume();
    input.on("data", (d: Buffer) => {
      for (const k of keysIn(d)) p.key(k);
    });
  }
  try {
    await p.run(interactive);
  } finally {
    output.off("resize", onResize);
    if (interactive) {
      input.setRawMode(false);
      input.pause();
    }
    // Below the status line, so the shell prompt does not land inside the last frame.
    output.write(`\x1b[0m\x1b[${p.viewport().rows};1H\r\n`);
  }
}

function keysIn(d: Buffer): PlayerKey[] {
  const out: PlayerKey[] = [];
  let s = d.toString("latin1");
  while (s.length > 0) {
    const { key, used } = playerKey(s);
    if (key) out.push(key);
    s = s.slice(Math.max(1, used));
  }
  return out;
}

class Player {
  #pos: number;
  #next = 0;
  #speed: number;
  #paused = false;
  #quit = false;
  #ended = false;
  #wake?: () => void;
  #lastStatus = 0;
  #busy = Promise.resolve();
  readonly #screen: ReplayScreen;

  constructor(private readonly rec: LoadedRecording, private readonly index: ScreenIndex, private readonly opts: PtyOptions,
    private readonly out: NodeJS.WriteStream) {
    this.#pos = opts.fromMs;
    this.#speed = opts.speed;
    this.#screen = new ReplayScreen(rec.start?.cols ?? 80, rec.start?.rows ?? 24);
  }

  /** The viewer's terminal; without one (a pipe), room for the whole recording and the status line. */
  viewport(): Viewport {
    return { cols: this.out.columns ?? this.#screen.cols, rows: this.out.rows ?? this.#screen.rows + 1 };
  }

  /** The viewer's terminal changed size: clear it and draw everything again. */
  redraw(): void {
    this.#screen.invalidate();
    this.out.write("\x1b[0m\x1b[H\x1b[2J" + this.#screen.paint(this.viewport()));
    this.#status(true);
  }

  key(k: PlayerKey): void {
    if (k === "quit") this.#quit = true;
    else if (k === "pause") this.#paused = !this.#paused;
    else if (k === "faster" || k === "slower") this.#speed = nextSpeed(this.#speed, k === "faster" ? 1 : -1);
    else this.#busy = this.#busy.then(() => this.seek(k === "forward" ? SEEK_MS : -SEEK_MS));
    this.#status(true);
    this.#wake?.();
  }

  async seek(delta: number): Promise<void> {
    const target = seekTarget(this.#pos, delta, this.rec.durationMs);
    const frame = await this.index.frameAt(target);
    const size = this.#sizeBefore(frame.next);
    this.#screen.resize(size.cols, size.rows);
    await this.#screen.write(frame.bytes);
    this.out.write(this.#screen.paint(this.viewport()));
    this.#pos = target;
    this.#next = frame.next;
    this.#ended = this.#next >= this.rec.events.length;
    this.#status(true);
  }

  async run(interactive: boolean): Promise<void> {
    this.out.write("\x1b[0m\x1b[H\x1b[2J");
    if (this.#pos > 0) await this.seek(0);
    let wall = performance.now();
    while (!this.#quit) {
      await this.#busy;
      const now = performance.now();
      const elapsed = now - wall;
      wall = now;
      if (this.#paused || this.#ended) {
        if (this.#ended && !interactive) return;
        this.#status(false);
        await this.#sleep(STATUS_EVERY_MS);
        continue;
      }
      this.#pos = Math.min(this.#pos + elapsed * this.#speed, this.rec.durationMs);
      await this.#emitDue();
      const nextEvent = this.rec.events[this.#next];
      if (!nextEvent) {
        this.#pos = this.rec.durationMs;
        this.#ended = true;
        this.#status(true);
        continue;
      }
      const skip = this.opts.skipIdleMs;
      if (skip !== undefined && nextEvent.ms - this.#pos > skip) this.#pos = nextEvent.ms - skip;
      this.#status(false);
      await this.#sleep(Math.min(TICK_MS, Math.max(1, (nextEvent.ms - this.#pos) / this.#speed)));
    }
  }

  /** Feeds the events now due to the screen (resizing it as the recording did) and paints the result. */
  async #emitDue(): Promise<void> {
    const events = this.rec.events;
    let chunks: Uint8Array[] = [];
    let changed = false;
    while (this.#next < events.length && events[this.#next]!.ms <= this.#pos) {
      const e = events[this.#next++]!;
      if (e.event === "print") chunks.push(eventBytes(e));
      else if (e.event === "resize") {
        if (chunks.length) await this.#screen.write(Buffer.concat(chunks));
        chunks = [];
        this.#screen.resize(e.cols, e.rows);
        changed = true;
      }
    }
    if (chunks.length) await this.#screen.write(Buffer.concat(chunks));
    if (chunks.length || changed) {
      this.out.write(this.#screen.paint(this.viewport()));
      this.#status(true);
    }
  }

  /** The recording's terminal size just before event `next`. */
  #sizeBefore(next: number): { cols: number; rows: number } {
    for (let i = next - 1; i >= 0; i--) {
      const e = this.rec.events[i]!;
      if (e.event === "resize") return { cols: e.cols, rows: e.rows };
    }
    return { cols: this.rec.start?.cols ?? 80, rows: this.rec.start?.rows ?? 24 };
  }

  #status(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.#lastStatus < STATUS_EVERY_MS) return;
    this.#lastStatus = now;
    const { rows, cols } = this.viewport();
    const state = this.#ended ? "■ end" : this.#paused ? "❚❚ paused" : "▶ playing";
    const full = ` ${state}  ${formatClock(this.#pos)} / ${formatClock(this.rec.durationMs)}  speed ${this.#speed}x  [space] pause [←/→] 5s [+/-] speed [q] quit `;
    // Never wider than the terminal: a wrapped status line would scroll the replayed screen.
    const text = [...full].slice(0, cols).join("");
    const clear = [...text].length < cols ? "\x1b[K" : "";
    this.out.write(`\x1b7\x1b[${rows};1H\x1b[0;7m${text}\x1b[0m${clear}\x1b8`);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        r();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = undefined;
        r();
      };
    });
  }
}
