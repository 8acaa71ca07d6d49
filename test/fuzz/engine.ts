// A small mutation fuzzer: a seeded PRNG, byte-level mutations of valid seeds (plus
// wholly random inputs), and a runner that tells a parser's typed refusals apart
// from crashes (any other exception) and hangs (an input over the time limit).

export interface Target {
  name: string;
  /** Valid inputs to mutate. */
  seeds: Uint8Array[];
  /** Tokens worth inserting (text formats): quotes, brackets, big numbers… */
  dictionary?: string[];
  /** Parses one input. Returning or throwing an expected error is fine. */
  run(input: Uint8Array): void;
  /** The parser's own refusal types: anything else thrown is a crash. */
  expected(e: unknown): boolean;
}

export interface Finding {
  kind: "crash" | "hang";
  input: Uint8Array;
  detail: string;
}

export interface FuzzResult {
  target: string;
  inputs: number;
  refused: number;
  crashes: number;
  hangs: number;
  ms: number;
  /** The first few crashes and hangs, with their inputs. */
  findings: Finding[];
}

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Stop earlier when this much time has passed. */
  timeMs?: number;
  /** An input that takes longer is a hang. */
  perInputMs: number;
  /** Keep at most this many findings per target. */
  maxFindings?: number;
}

/** mulberry32: small, fast and the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_LEN = 64 * 1024;
const INTERESTING_U8 = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x22, 0x5c];
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export class Mutator {
  readonly #r: () => number;
  constructor(seed: number, private readonly seeds: Uint8Array[], private readonly dictionary: Uint8Array[] = []) {
    this.#r = prng(seed);
  }

  #int(n: number): number {
    return Math.floor(this.#r() * n);
  }

  next(): Uint8Array {
    if (this.seeds.length === 0 || this.#r() < 0.08) return this.#random();
    let b: Uint8Array = Uint8Array.from(this.seeds[this.#int(this.seeds.length)]!);
    const rounds = 1 + this.#int(this.#r() < 0.7 ? 3 : 12);
    for (let i = 0; i < rounds; i++) b = this.#mutate(b);
    return b.length > MAX_LEN ? b.subarray(0, MAX_LEN) : b;
  }

  #random(): Uint8Array {
    const b = new Uint8Array(this.#int(this.#r() < 0.9 ? 64 : 2048));
    for (let i = 0; i < b.length; i++) b[i] = this.#int(256);
    return b;
  }

  #mutate(b: Uint8Array): Uint8Array {
    const at = () => this.#int(b.length + 1);
    switch (this.#int(11)) {
      case 0: { // flip a bit
        if (b.length === 0) return b;
        b[this.#int(b.length)]! ^= 1 << this.#int(8);
        return b;
      }
      case 1: { // a random byte
        if (b.length) b[this.#int(b.length)] = this.#int(256);
        return b;
      }
      case 2: { // an interesting byte
        if (b.length) b[this.#int(b.length)] = INTERESTING_U8[this.#int(INTERESTING_U8.length)]!;
        return b;
      }
      case 3: { // an interesting big-endian u32 (SSH lengths, counts)
        if (b.length < 4) return b;
        const p = this.#int(b.length - 3);
        new DataView(b.buffer, b.byteOffset).setUint32(p, INTERESTING_U32[this.#int(INTERESTING_U32.length)]!, this.#r() < 0.2);
        return b;
      }
      case 4: { // delete a range
        const p = at();
        return concat(b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + this.#int(16))));
      }
      case 5: { // insert random bytes
        const ins = new Uint8Array(1 + this.#int(16)).map(() => this.#int(256));
        const p = at();
        return concat(b.subarray(0, p), ins, b.subarray(p));
      }
      case 6: { // duplicate a range
        const p = at();
        const chunk = b.subarray(p, p + 1 + this.#int(64));
        const q = at();
        return concat(b.subarray(0, q), chunk, b.subarray(q));
      }
      case 7: // truncate
        return b.subarray(0, at());
      case 8: { // splice with another seed
        const other = this.seeds[this.#int(this.seeds.length)]!;
        return concat(b.subarray(0, at()), other.subarray(this.#int(other.length + 1)));
      }
      case 9: { // a dictionary token
        if (this.dictionary.length === 0) return b;
        const p = at();
        return concat(b.subarray(0, p), this.dictionary[this.#int(this.dictionary.length)]!, b.subarray(p));
      }
      default: { // overwrite a range with one repeated byte
        const p = at();
        return b.fill(this.#int(256), p, p + this.#int(32));
      }
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Runs one target: every seed as it is, then mutated and random inputs, within the budget. */
export function fuzzTarget(t: Target, o: FuzzOptions): FuzzResult {
  const enc = new TextEncoder();
  const m = new Mutator(o.seed ^ hash(t.name), t.seeds, (t.dictionary ?? []).map((d) => enc.encode(d)));
  const res: FuzzResult = { target: t.name, inputs: 0, refused: 0, crashes: 0, hangs: 0, ms: 0, findings: [] };
  const began = performance.now();
  const maxFindings = o.maxFindings ?? 5;
  for (let i = 0; i < o.count; i++) {
    if (o.timeMs !== undefined && performance.now() - began > o.timeMs) break;
    const input = i < t.seeds.length ? t.seeds[i]! : m.next();
    const t0 = performance.now();
    try {
      t.run(input);
    } catch (e) {
      if (t.expected(e)) res.refused++;
      else {
        res.crashes++;
        if (res.findings.length < maxFindings) res.findings.push({ kind: "crash", input, detail: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
    }
    const took = performance.now() - t0;
    if (took > o.perInputMs) {
      res.hangs++;
      if (res.findings.length < maxFindings) res.findings.push({ kind: "hang", input, detail: `${took.toFixed(0)} ms` });
    }
    res.inputs++;
  }
  res.ms = performance.now() - began;
  return res;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
