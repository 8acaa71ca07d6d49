// A quick guess whether bytes will compress: the share of a few samples that a fast
// LZ77 pass would cover with 4-byte repeats. Random or already-compressed output (and
// its base64) has next to none, and gzip's fast level gains nothing on it while costing
// ~40 times what storing it does; text and terminal output repeat a lot.

const SAMPLES = 3;
const SAMPLE = 4 * 1024;
const MIN_MATCH = 4;
const MAX_MATCH = 258;
const HASH_BITS = 13;
const table = new Int32Array(1 << HASH_BITS);

/** Share (0..1) of up to three 4 KiB samples (start, middle, end) covered by repeats within each sample. */
export function repeatShare(b: Uint8Array): number {
  if (b.length === 0) return 1;
  const starts = b.length <= SAMPLES * SAMPLE ? [0] : [0, (b.length >> 1) - SAMPLE / 2, b.length - SAMPLE];
  let covered = 0;
  let total = 0;
  for (const s of starts) {
    const len = Math.min(b.length <= SAMPLES * SAMPLE ? b.length : SAMPLE, b.length - s);
    covered += coveredIn(b, s, s + len);
    total += len;
  }
  return covered / total;
}

function coveredIn(b: Uint8Array, start: number, end: number): number {
  table.fill(-1);
  let covered = 0;
  let i = start;
  const last = end - MIN_MATCH;
  while (i <= last) {
    const v = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    const h = Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS);
    const j = table[h]!;
    table[h] = i;
    if (j >= start && b[j] === b[i] && b[j + 1] === b[i + 1] && b[j + 2] === b[i + 2] && b[j + 3] === b[i + 3]) {
      let k = MIN_MATCH;
      while (k < MAX_MATCH && i + k < end && b[j + k] === b[i + k]) k++;
      covered += k;
      i += k;
    } else i++;
  }
  return covered;
}
