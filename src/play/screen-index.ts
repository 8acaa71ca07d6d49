// Seeking in a terminal recording: the screen at any moment is rebuilt from the
// nearest keyframe (a snapshot of a headless terminal, taken every 30 s of
// recording as the index grows) plus the few events after it — never by replaying
// the recording from its start on each seek.
import { SerializeAddon } from "@xterm/addon-serialize";
import { Terminal } from "@xterm/headless";
import type { LoadedRecording } from "../recording/format/recording-reader.ts";
import { eventBytes } from "../recording/format/recording-event.ts";
import { eventTimes, lastAtOrBefore } from "../recording/format/timeline.ts";
import { boundedSize } from "./replay-screen.ts";


/** A keyframe every this much recording time or output, whichever comes first. */
const KEYFRAME_MS = 30_000;
const KEYFRAME_BYTES = 256 * 1024;
/** Full reset, then the snapshot; the snapshot draws from the home position. */
const RESET = "\x1bc";

interface Keyframe {
  /** Index of the first event NOT in the snapshot. */
  next: number;
  cols: number;
  rows: number;
  screen: string;
}

export class ScreenIndex {
  readonly times: number[];
  readonly #keyframes: Keyframe[] = [];
  readonly #term;
  readonly #ser;
  #fed = 0;
  #sinceMs = 0;
  #sinceBytes = 0;

  constructor(private readonly rec: LoadedRecording) {
    this.times = eventTimes(rec.events);
    const { cols, rows } = boundedSize(rec.start?.cols, rec.start?.rows);
    this.#term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
    this.#ser = new SerializeAddon();
    this.#term.loadAddon(this.#ser);
    this.#keyframes.push({ next: 0, cols, rows, screen: "" });
  }

  get keyframes(): number {
    return this.#keyframes.length;
  }

  /** Bytes that bring a freshly reset terminal to the screen at `ms`, and the event index to play on from. */
  async frameAt(ms: number): Promise<{ bytes: Uint8Array; next: number }> {
    const next = lastAtOrBefore(this.times, ms) + 1;
    await this.#indexTo(next);
    const k = this.#keyframes[lastAtOrBefore(this.#keyframes.map((f) => f.next), next)]!;
    const parts: Uint8Array[] = [Buffer.from(RESET + k.screen)];
    for (let i = k.next; i < next; i++) {
      const e = this.rec.events[i]!;
      if (e.event === "print") parts.push(eventBytes(e));
    }
    return { bytes: Buffer.concat(parts), next };
  }

  /** Feeds the headless terminal up to event `upTo`, taking keyframes on the way. */
  async #indexTo(upTo: number): Promise<void> {
    const events = this.rec.events;
    let batch: Uint8Array[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const data = Buffer.concat(batch);
      batch = [];
      await new Promise<void>((r) => this.#term.write(data, r));
    };
    while (this.#fed < upTo) {
      const e = events[this.#fed]!;
      const prevMs = this.times[this.#fed - 1] ?? 0;
      this.#sinceMs += this.times[this.#fed]! - prevMs;
      if (e.event === "print") {
        const b = eventBytes(e);
        batch.push(b);
        this.#sinceBytes += b.length;
      } else if (e.event === "resize") {
        await flush();
        const size = boundedSize(e.cols, e.rows, { cols: this.#term.cols, rows: this.#term.rows });
        this.#term.resize(size.cols, size.rows);
      }
      this.#fed++;
      if (this.#sinceMs >= KEYFRAME_MS || this.#sinceBytes >= KEYFRAME_BYTES) {
        await flush();
        this.#keyframes.push({ next: this.#fed, cols: this.#term.cols, rows: this.#term.rows, screen: this.#ser.serialize({ scrollback: 0 }) });
        this.#sinceMs = 0;
        this.#sinceBytes = 0;
      }
    }
    await flush();
  }
}
