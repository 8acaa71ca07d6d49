// CIDR lists as used by the certificate option source-address ("10.0.0.0/8,2001:db8::/32"):
// strict parsing of IPv4/IPv6 networks and testing whether a client address falls inside one.

/** Bad network or address text; `message` is a short reason. */
export class CidrError extends Error {
  override name = "CidrError";
}

export interface Cidr {
  family: 4 | 6;
  /** Network address, 4 or 16 bytes, with no bits set past the prefix. */
  addr: Uint8Array;
  prefix: number;
}

// Real lists are a few entries; the bound only caps work on hostile input.
const MAX_LIST = 8192;
const DECIMAL = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Comma-separated, no spaces, no empty entries (as OpenSSH's addr_match_cidr_list). */
export function parseCidrList(s: string): Cidr[] {
  if (s.length > MAX_LIST) throw new CidrError("address list too long");
  return s.split(",").map(parseCidr);
}

/** "a.b.c.d/n", "v6::/n", or a bare address meaning a single host. */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf("/");
  const addr = parseIp(slash < 0 ? s : s.slice(0, slash));
  const bits = addr.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const text = s.slice(slash + 1);
    if (!DECIMAL.test(text) || Number(text) > bits) throw new CidrError(`bad prefix length in "${_clip(s)}"`);
    prefix = Number(text);
  }
  // Like OpenSSH, refuse "10.0.0.1/8": the writer probably meant something narrower.
  if (!_prefixEqual(addr, _masked(addr, prefix), bits)) {
    throw new CidrError(`inconsistent mask length for "${_clip(s)}"`);
  }
  return { family: addr.length === 4 ? 4 : 6, addr, prefix };
}

/**
 * True if `address` lies in `c`. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), which dual-stack
 * sockets report for IPv4 clients, are treated as the IPv4 address. A zone suffix (%eth0) is ignored.
 */
export function cidrContains(c: Cidr, address: string): boolean {
  const zone = address.indexOf("%");
  const a = _unmapped(parseIp(zone >= 0 && address.includes(":") ? address.slice(0, zone) : address));
  if (a.length !== c.addr.length) return false;
  return _prefixEqual(a, c.addr, c.prefix);
}

/** Parses a textual IPv4 (4 bytes) or IPv6 (16 bytes) address. */
export function parseIp(s: string): Uint8Array {
  if (s.length === 0 || s.length > 45) throw new CidrError(`bad address "${_clip(s)}"`);
  return s.includes(":") ? _parseIpv6(s) : _parseIpv4(s);
}

function _parseIpv4(s: string): Uint8Array {
  const parts = s.split(".");
  // Leading zeros are refused: some parsers read them as octal.
  if (parts.length !== 4 || !parts.every((p) => DECIMAL.test(p) && Number(p) <= 255)) {
    throw new CidrError(`bad IPv4 address "${_clip(s)}"`);
  }
  return Uint8Array.from(parts, Number);
}

function _parseIpv6(s: string): Uint8Array {
  const bad = () => new CidrError(`bad IPv6 address "${_clip(s)}"`);
  const gap = s.indexOf("::");
  if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) throw bad();
  const head = _groups(gap < 0 ? s : s.slice(0, gap), gap < 0, bad);
  const tail = gap < 0 ? [] : _groups(s.slice(gap + 2), true, bad);
  const used = head.length + tail.length;
  if (gap < 0 ? used !== 16 : used > 14) throw bad();
  const out = new Uint8Array(16);
  out.set(head, 0);
  out.set(tail, 16 - tail.length);
  return out;
}

/** Bytes of colon-separated hex groups; the last may be dotted IPv4 when it ends the address. */
function _groups(part: string, endsAddress: boolean, bad: () => CidrError): number[] {
  if (part === "") return [];
  const groups = part.split(":");
  if (groups.length > 8) throw bad();
  const out: number[] = [];
  groups.forEach((g, i) => {
    if (endsAddress && i === groups.length - 1 && g.includes(".")) {
      out.push(..._parseIpv4(g));
      return;
    }
    if (!HEX_GROUP.test(g)) throw bad();
    const n = parseInt(g, 16);
    out.push(n >> 8, n & 0xff);
  });
  return out;
}

function _unmapped(a: Uint8Array): Uint8Array {
  if (a.length !== 16) return a;
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return a;
  return a[10] === 0xff && a[11] === 0xff ? a.slice(12) : a;
}

function _masked(a: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = a[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function _prefixEqual(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const ma = _masked(a, prefix);
  const mb = _masked(b, prefix);
  return ma.every((x, i) => x === mb[i]);
}

function _clip(s: string): string {
  return JSON.stringify(s.length > 50 ? s.slice(0, 50) + "…" : s).slice(1, -1);
}
