// Gzip members that say their own size. Each member the recorder writes carries a
// gzip FEXTRA subfield "HW" holding the member's total length (as BGZF does), so a
// reader can split a part into members without inflating it and decode each with
// libdeflate (Bun.gunzipSync), several times faster than zlib's multi-member inflate.
// Any gzip reader ignores the extra field: the data is still plain gzip. Members of
// output that will not compress are written here directly as stored blocks.

const HEADER = 10;
const XLEN = 8; // subfield: 'H' 'W', length 4, uint32 member size
const FEXTRA = 0x04;

/** Adds the size subfield to a single-member gzip with a plain 10-byte header. */
export function sizeMember(gz: Uint8Array): Uint8Array {
  if (gz[0] !== 0x1f || gz[1] !== 0x8b || gz[3] !== 0) return gz;
  const out = new Uint8Array(gz.length + 2 + XLEN);
  out.set(gz.subarray(0, HEADER));
  out[3] = FEXTRA;
  const v = new DataView(out.buffer);
  v.setUint16(HEADER, XLEN, true);
  out[HEADER + 2] = 0x48; // H
  out[HEADER + 3] = 0x57; // W
  v.setUint16(HEADER + 4, 4, true);
  v.setUint32(HEADER + 6, out.length, true);
  out.set(gz.subarray(HEADER), HEADER + 2 + XLEN);
  return out;
}

/** The members of a buffer made of sized members, or undefined if any member is not one. */
export function splitMembers(bytes: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < HEADER + 2 + XLEN || bytes[at] !== 0x1f || bytes[at + 1] !== 0x8b || bytes[at + 3] !== FEXTRA) return undefined;
    if (v.getUint16(at + HEADER, true) !== XLEN || bytes[at + 12] !== 0x48 || bytes[at + 13] !== 0x57 || v.getUint16(at + 14, true) !== 4) return undefined;
    const size = v.getUint32(at + 16, true);
    if (size < HEADER + 2 + XLEN + 8 || at + size > bytes.length) return undefined;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

const STORED_BLOCK = 65535;

/**
 * A sized member holding `raw` in deflate stored blocks, written directly: one copy and
 * a (hardware) CRC-32, where zlib's level 0 costs ~8× that and sizeMember a second copy.
 */
export function storedMember(raw: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(raw.length / STORED_BLOCK));
  const size = HEADER + 2 + XLEN + blocks * 5 + raw.length + 8;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x1f, 0x8b, 8, FEXTRA, 0, 0, 0, 0, 0, 0xff]);
  v.setUint16(HEADER, XLEN, true);
  out[HEADER + 2] = 0x48; // H
  out[HEADER + 3] = 0x57; // W
  v.setUint16(HEADER + 4, 4, true);
  v.setUint32(HEADER + 6, size, true);
  let o = HEADER + 2 + XLEN;
  for (let b = 0, at = 0; b < blocks; b++, at += STORED_BLOCK) {
    const len = Math.min(STORED_BLOCK, raw.length - at);
    out[o] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00 (stored)
    v.setUint16(o + 1, len, true);
    v.setUint16(o + 3, ~len & 0xffff, true);
    out.set(raw.subarray(at, at + len), o + 5);
    o += 5 + len;
  }
  v.setUint32(o, Bun.hash.crc32(raw) >>> 0, true);
  v.setUint32(o + 4, raw.length >>> 0, true);
  return out;
}
