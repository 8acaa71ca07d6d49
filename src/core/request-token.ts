// Signed request tokens: every API call and WebSocket upgrade carries one, proving
// possession of a private key without sending any shared secret.

export const AUTH_SCHEME = "HW1";
/** How far a token's issue time may be from the server's clock. */
export const TOKEN_WINDOW_MS = 60_000;
/**
 * Every auth API answer (refusals too) carries the server's time in ms since the epoch,
 * so a caller whose clock is off learns by how much and signs on the server's time.
 */
export const SERVER_TIME_HEADER = "x-hostward-time";

/** "600 s ahead of" / "12 s behind": how far `localMs` is from `serverMs`, for messages. */
export function skewPhrase(localMs: number, serverMs: number): string {
  const s = Math.round((localMs - serverMs) / 1000);
  return `${Math.abs(s)} s ${s >= 0 ? "ahead of" : "behind"}`;
}

/** Who signs: a person (their OpenSSH user certificate) or a node (its server UUID). */
export type TokenSubject = { cert: string } | { node: string };

export interface TokenPayload {
  v: 1;
  sub: TokenSubject;
  iat: number;
  nonce: string;
  m: string;
  p: string;
  bh: string;
}

/** A header or token that is not well formed; the message is short and safe to show. */
export class TokenError extends Error {
  override name = "TokenError";
}

export function bodyHash(body: Uint8Array | string): string {
  // Bun's native hasher: node:crypto's createHash would load node:crypto for every ctl command.
  return new Bun.CryptoHasher("sha256").update(body).digest("hex");
}

/** The bytes a token signs: its payload as JSON. */
export function tokenBytes(payload: TokenPayload): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(payload));
}

export function encodeToken(payload: TokenPayload, sign: (data: Uint8Array) => Uint8Array): string {
  const bytes = tokenBytes(payload);
  return `${AUTH_SCHEME} ${b64url(bytes)}.${b64url(sign(bytes))}`;
}

export interface DecodedToken {
  payload: TokenPayload;
  signedBytes: Uint8Array;
  signature: Uint8Array;
}

/** Parses the header; throws TokenError with a short reason on anything malformed. */
export function decodeToken(header: string): DecodedToken {
  const [scheme, value, extra] = header.split(" ");
  if (scheme !== AUTH_SCHEME || !value || extra !== undefined) throw new TokenError("malformed authorization header");
  const [p, s, more] = value.split(".");
  if (!p || !s || more !== undefined || p.length > 16_384 || s.length > 4096) throw new TokenError("malformed authorization token");
  const signedBytes = Buffer.from(p, "base64url");
  const payload = parsePayload(new TextDecoder().decode(signedBytes));
  return { payload, signedBytes, signature: Buffer.from(s, "base64url") };
}

function parsePayload(text: string): TokenPayload {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new TokenError("malformed authorization token");
  }
  const t = o as Partial<TokenPayload>;
  const subOk = typeof t.sub === "object" && t.sub !== null &&
    (typeof (t.sub as { cert?: unknown }).cert === "string" || typeof (t.sub as { node?: unknown }).node === "string");
  if (t.v !== 1 || !subOk || typeof t.iat !== "number" || typeof t.nonce !== "string" || t.nonce.length < 16 ||
    t.nonce.length > 64 || typeof t.m !== "string" || typeof t.p !== "string" || typeof t.bh !== "string") {
    throw new TokenError("malformed authorization token");
  }
  return t as TokenPayload;
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString("base64url");
}
