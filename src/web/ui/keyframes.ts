// Seeking in the browser: snapshots of an off-screen terminal (a keyframe every 30 s
// of recording or 256 KiB of output), so the screen at any moment is a keyframe plus
// the few events after it — never a replay from the start (as src/recording/screen-index.ts).
import { SerializeAddon } from "@xterm/addon-serialize";
import { Terminal } from "@xterm/xterm";

/** [ms, "o", text] | [ms, "b", base64] | [ms, "r", cols, rows] */
export type PlayerEvent = [number, "o", string] | [number, "b", string] | [number, "r", number, number];

const KEYFRAME_MS = 30_000;
const KEYFRAME_BYTES = 256 * 1024;

export interface Keyframe { next: number; cols: number; rows: number; screen: string }

export class KeyframeIndex {
  readonly frames: Keyframe[];
  readonly #term: Terminal;
  readonly #ser = new SerializeAddon();
  #fed = 0;
  #sinceMs = 0;
  #sinceBytes = 0;
  #busy: Promise<void> = Promise.resolve();

  constructor(private readonly events: PlayerEvent[], cols: number, rows: number) {
    this.#term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
    this.#term.loadAddon(this.#ser);
    this.frames = [{ next: 0, cols, rows, screen: "" }];
  }

  /** Indexes the whole recording, a slice at a time so the page stays responsive. */
  async buildAll(): Promise<void> {
    while (this.#fed < this.events.length) await this.#indexTo(Math.min(this.events.length, this.#fed + 2000));
  }

  /** The nearest keyframe at or before `ms`, and the index of the first event after it. */
  async frameAt(ms: number): Promise<Keyframe> {
    let upTo = 0;
    while (upTo < this.events.length && this.events[upTo]![0] <= ms) upTo++;
    await this.#indexTo(upTo);
    let best = this.frames[0]!;
    for (const f of this.frames) if (f.next <= upTo) best = f;
    return best;
  }

  #indexTo(upTo: number): Promise<void> {
    // One indexing at a time: the background build and a seek share the terminal.
    this.#busy = this.#busy.then(() => this.#feed(upTo));
    return this.#busy;
  }

  async #feed(upTo: number): Promise<void> {
    let batch: (string | Uint8Array)[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const parts = batch;
      batch = [];
      // xterm parses written data on a later task; an index with a keyframe every 30 s would
      // wait for one task per keyframe. Its synchronous write (not in the typings) avoids that.
      const core = (this.#term as unknown as { _core?: { writeSync?: (d: string | Uint8Array) => void } })._core;
      if (typeof core?.writeSync === "function") {
        for (const d of parts) core.writeSync(d);
        return;
      }
      for (const d of parts) this.#term.write(d);
      await new Promise<void>((r) => this.#term.write("", r));
    };
    while (this.#fed < upTo) {
      const e = this.events[this.#fed]!;
      this.#sinceMs += e[0] - (this.events[this.#fed - 1]?.[0] ?? 0);
      if (e[1] === "r") {
        await flush();
        this.#term.resize(Math.max(1, e[2]), Math.max(1, e[3]));
      } else {
        const d = e[1] === "o" ? e[2] : Uint8Array.from(atob(e[2]), (c) => c.charCodeAt(0));
        batch.push(d);
        this.#sinceBytes += d.length;
      }
      this.#fed++;
      if (this.#sinceMs >= KEYFRAME_MS || this.#sinceBytes >= KEYFRAME_BYTES) {
        await flush();
        this.frames.push({ next: this.#fed, cols: this.#term.cols, rows: this.#term.rows, screen: this.#ser.serialize({ scrollback: 0 }) });
        this.#sinceMs = 0;
        this.#sinceBytes = 0;
      }
    }
    await flush();
  }
}
