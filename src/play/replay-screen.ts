// What `play` shows: the recording's bytes go into a headless terminal of the
// recording's size, and the viewer's terminal is painted from its cells. So nothing
// but text, colours and cursor moves reaches the viewer (no clipboard writes, titles,
// OSC/DCS/APC/PM strings or queries that make a terminal answer), and the replayed
// screen is exactly the recording's, whatever the recording does with scroll regions.
import { Terminal, type IBufferCell } from "@xterm/headless";

/** A recording's terminal size is data from the recorded host: bounded before any buffer is made from it. */
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;

export function boundedSize(cols: unknown, rows: unknown, fallback = { cols: 80, rows: 24 }): { cols: number; rows: number } {
  const fit = (v: unknown, max: number, dflt: number) => (Number.isInteger(v) ? Math.min(max, Math.max(1, v as number)) : dflt);
  return { cols: fit(cols, MAX_COLS, fallback.cols), rows: fit(rows, MAX_ROWS, fallback.rows) };
}

export interface Viewport {
  cols: number;
  rows: number;
}

export class ReplayScreen {
  #term: Terminal;
  /** What each viewer row shows now, so a paint writes only what changed. */
  #painted: string[] = [];

  constructor(cols: number, rows: number) {
    const size = boundedSize(cols, rows);
    this.#term = new Terminal({ ...size, scrollback: 0, allowProposedApi: true });
  }

  get cols(): number {
    return this.#term.cols;
  }

  get rows(): number {
    return this.#term.rows;
  }

  write(bytes: Uint8Array | string): Promise<void> {
    return new Promise((r) => this.#term.write(bytes, r));
  }

  resize(cols: number, rows: number): void {
    const size = boundedSize(cols, rows, { cols: this.cols, rows: this.rows });
    if (size.cols === this.#term.cols && size.rows === this.#term.rows) return;
    this.#term.resize(size.cols, size.rows);
    this.#painted = [];
  }

  /** Forget what the viewer shows (it was cleared or resized): the next paint draws every row. */
  invalidate(): void {
    this.#painted = [];
  }

  /**
   * Bytes that make the viewer show the screen in its top-left corner, leaving
   * `reserved` rows at its bottom alone (the status line). A screen taller than
   * the space shows its bottom rows, where the cursor usually is.
   */
  paint(view: Viewport, reserved = 1): string {
    const buf = this.#term.buffer.active;
    const space = Math.max(1, view.rows - reserved);
    const first = Math.max(0, this.rows - space);
    const cols = Math.min(this.cols, view.cols);
    let out = "";
    for (let y = first; y < this.rows; y++) {
      const row = renderRow(buf.getLine(buf.baseY + y), cols, buf.getNullCell());
      const at = y - first;
      if (this.#painted[at] === row) continue;
      this.#painted[at] = row;
      // The rest of a wider viewer's row is cleared from past the recording's last column.
      const clear = view.cols > cols ? `\x1b[${at + 1};${cols + 1}H\x1b[0m\x1b[K` : "";
      out += `\x1b[${at + 1};1H\x1b[0m${row}${clear}`;
    }
    for (let at = this.rows - first; at < space; at++) {
      if (this.#painted[at] === "") continue;
      this.#painted[at] = "";
      out += `\x1b[${at + 1};1H\x1b[0m\x1b[K`;
    }
    const cy = buf.cursorY - first;
    if (cy >= 0) out += `\x1b[0m\x1b[${cy + 1};${Math.min(buf.cursorX, cols - 1) + 1}H`;
    return out;
  }

  /** The screen's text, row by row (for tests and `--format text` style checks). */
  text(): string[] {
    const buf = this.#term.buffer.active;
    return Array.from({ length: this.rows }, (_, y) => buf.getLine(buf.baseY + y)?.translateToString(true) ?? "");
  }
}

/** One row as SGR and characters: only what draws, whatever the cells were made from. */
function renderRow(line: ReturnType<Terminal["buffer"]["active"]["getLine"]>, cols: number, cell: IBufferCell): string {
  if (!line) return "";
  let out = "";
  let sgr = "0";
  for (let x = 0; x < cols; x++) {
    const c = line.getCell(x, cell);
    if (!c || c.getWidth() === 0) continue; // the second half of a wide character
    // A wide character that would not fit the last column is shown as a blank.
    const wide = c.getWidth() === 2 && x === cols - 1;
    const chars = wide ? " " : safeChars(c.getChars()) || " ";
    const want = sgrOf(c);
    if (want !== sgr) {
      out += `\x1b[${want}m`;
      sgr = want;
    }
    out += chars;
  }
  return sgr === "0" ? out : out + "\x1b[0m";
}

/** Cells hold printable text; drop any control character all the same (C0, DEL, C1). */
function safeChars(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, "");
}

function sgrOf(c: IBufferCell): string {
  const p = ["0"];
  if (c.isBold()) p.push("1");
  if (c.isDim()) p.push("2");
  if (c.isItalic()) p.push("3");
  if (c.isUnderline()) p.push("4");
  if (c.isBlink()) p.push("5");
  if (c.isInverse()) p.push("7");
  if (c.isInvisible()) p.push("8");
  if (c.isStrikethrough()) p.push("9");
  if (c.isOverline()) p.push("53");
  p.push(...colour(c.isFgRGB(), c.isFgPalette(), c.getFgColor(), 30));
  p.push(...colour(c.isBgRGB(), c.isBgPalette(), c.getBgColor(), 40));
  return p.join(";");
}

function colour(rgb: boolean, palette: boolean, v: number, base: 30 | 40): string[] {
  if (rgb) return [`${base + 8};2;${(v >> 16) & 255};${(v >> 8) & 255};${v & 255}`];
  if (!palette) return [];
  if (v < 8) return [String(base + v)];
  if (v < 16) return [String(base + 60 + v - 8)];
  return [`${base + 8};5;${v & 255}`];
}
