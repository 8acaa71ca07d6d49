// Gzip members that say their own size. Each member the recorder writes carries a
// gzip FEXTRA subfield "HW" holding the member's total length (as BGZF does), so a
// reader can split a part into members without inflating it and decode each with
// libdeflate (Bun.gunzipSync), several times faster than zlib's multi-member inflate.
// Any gzip reader ignores the extra field: the data is still plain .ndjson.gz.

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
