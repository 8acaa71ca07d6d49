// SSH wire encoding (RFC 4251 §5): reading and writing uint32, uint64, string and mpint.
// The reader treats its input as hostile and checks every length before use.

/** Thrown by WireReader on short or malformed input, and by WireWriter on out-of-range values. */
export class WireError extends Error {
  override name = "WireError";
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
const U32_MAX = 0xffffffff;
const U64_MAX = 0xffffffffffffffffn;

export class WireReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.#pos;
  }

  get done(): boolean {
    return this.#pos === this.#buf.length;
  }

  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#pos++);
  }

  u32(): number {
    this.#need(4);
    const n = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return n;
  }

  u64(): bigint {
    this.#need(8);
    const n = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    return n;
  }

  /** An SSH string: uint32 length, then that many bytes. Returns a view, not a copy. */
  bytes(): Uint8Array {
    const len = this.u32();
    this.#need(len);
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  /** An SSH string that must be valid UTF-8. */
  text(): string {
    const raw = this.bytes();
    try {
      return utf8.decode(raw);
    } catch {
      throw new WireError("string is not valid UTF-8");
    }
  }

  /**
   * An mpint, returned as its unsigned magnitude without leading zero bytes.
   * Negative values are refused: no SSH key or signature field may be negative.
   */
  mpint(): Uint8Array {
    const raw = this.bytes();
    if (raw.length > 0 && (raw[0]! & 0x80) !== 0) throw new WireError("negative mpint");
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  /** Everything not yet read; consumes it. */
  rest(): Uint8Array {
    const out = this.#buf.subarray(this.#pos);
    this.#pos = this.#buf.length;
    return out;
  }

  #need(n: number): void {
    if (n > this.#buf.length - this.#pos) throw new WireError("unexpected end of data");
  }
}

export class WireWriter {
  #chunks: Uint8Array[] = [];

  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new WireError("u8 out of range");
    this.#chunks.push(Uint8Array.of(n));
    return this;
  }

  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw new WireError("u32 out of range");
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    this.#chunks.push(b);
    return this;
  }

  u64(n: bigint): this {
    if (n < 0n || n > U64_MAX) throw new WireError("u64 out of range");
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n);
    this.#chunks.push(b);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.u32(b.length);
    this.#chunks.push(b.slice());
    return this;
  }

  text(s: string): this {
    return this.bytes(utf8Encoder.encode(s));
  }

  /** Encodes an unsigned magnitude as an mpint: minimal length, 0x00 prefix when the top bit is set. */
  mpint(b: Uint8Array): this {
    let start = 0;
    while (start < b.length && b[start] === 0) start++;
    const mag = b.subarray(start);
    if (mag.length > 0 && (mag[0]! & 0x80) !== 0) {
      const padded = new Uint8Array(mag.length + 1);
      padded.set(mag, 1);
      return this.bytes(padded);
    }
    return this.bytes(mag);
  }

  raw(b: Uint8Array): this {
    this.#chunks.push(b.slice());
    return this;
  }

  finish(): Uint8Array {
    let len = 0;
    for (const c of this.#chunks) len += c.length;
    const out = new Uint8Array(len);
    let pos = 0;
    for (const c of this.#chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}
