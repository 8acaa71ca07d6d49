// HTTPS client for the auth service API: trusts only the pinned cluster CA and signs
// every request with the caller's key (a person's certificate or a node's identity).
import type { KeyObject } from "node:crypto";
import { randomBytes } from "node:crypto";
import { pinMatches } from "../core/ca-pin.ts";
import { bodyHash, encodeToken, TOKEN_WINDOW_MS, type TokenSubject } from "../core/request-token.ts";
import { ServerClock, serverTimeOf, type ClockSync } from "./server-clock.ts";
import { signEd25519 } from "../core/ssh-key.ts";

export interface Signer {
  subject: TokenSubject;
  privateKey: KeyObject;
}

import { ApiError } from "./api-error.ts";

export { ApiError };

const TIMEOUT_MS = 10_000;

/**
 * Fetches the auth service's CA over an unverified connection and accepts it only if
 * it matches the pin. Everything after is verified against that CA, so a
 * man-in-the-middle on this first call gains nothing.
 */
export async function fetchPinnedCa(authServer: string, pin: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`https://${authServer}/v1/ca`, { tls: { rejectUnauthorized: false }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new ApiError(0, `cannot reach auth server ${authServer}: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { ca_cert?: string };
  if (!res.ok || typeof body.ca_cert !== "string") throw new ApiError(res.status, `auth server ${authServer} did not return its CA`);
  if (!pinMatches(body.ca_cert, pin)) throw new ApiError(0, `auth server ${authServer} does not match CA pin ${pin}: refusing to trust it`);
  return body.ca_cert;
}

export class ApiClient {
  /** Requests are signed on the auth service's time as learnt from its answers (an agent plugs in its own). */
  clock: ClockSync = new ServerClock();

  constructor(readonly authServer: string, readonly caCertPem: string, private readonly signer?: Signer) {}

  get tls() {
    // The cluster CA issues certificates only to the auth service, so the pinned CA
    // alone identifies it; host names in the certificate are not what we trust.
    return { ca: this.caCertPem, checkServerIdentity: () => undefined };
  }

  async request<T = unknown>(method: string, rawPath: string, body?: unknown): Promise<T> {
    const path = normalizePath(rawPath);
    const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
    let res = await this.#send(method, path, body === undefined ? undefined : bytes);
    // Refused because our clock was off: the answer told us the server's time, so the
    // clock has learnt the offset; sign once more on the server's time.
    if (res.status === 401 && res.skewed) res = await this.#send(method, path, body === undefined ? undefined : bytes);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(res.status, `auth server answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) throw new ApiError(res.status, (parsed as { error?: string })?.error ?? `HTTP ${res.status}`);
    return parsed as T;
  }

  async #send(method: string, path: string, bytes: Uint8Array | undefined): Promise<Response & { skewed?: boolean }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const iat = this.clock.now();
    if (this.signer) headers.authorization = this.authorization(method, path, bytes, iat);
    const sentAt = Date.now();
    let res: Response;
    try {
      res = await fetch(`https://${this.authServer}${path}`, { method, headers, body: bytes, tls: this.tls, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (e) {
      throw new ApiError(0, `cannot reach auth server ${this.authServer}: ${(e as Error).message}`);
    }
    const serverMs = serverTimeOf(res.headers);
    if (serverMs === undefined) return res;
    this.clock.observe(sentAt, Date.now(), serverMs);
    return Object.assign(res, { skewed: Math.abs(serverMs - iat) > TOKEN_WINDOW_MS / 2 });
  }

  /** The signed header for one request (also used for the WebSocket upgrade). */
  authorization(method: string, path: string, body: Uint8Array = new Uint8Array(), iat = this.clock.now()): string {
    if (!this.signer) throw new Error("no identity to sign requests with");
    const payload = { v: 1 as const, sub: this.signer.subject, iat, nonce: randomBytes(16).toString("hex"), m: method, p: normalizePath(path), bh: bodyHash(body) };
    const key = this.signer.privateKey;
    return encodeToken(payload, (data) => signEd25519(key, data));
  }
}

/** The path as the server will see it (e.g. a bare trailing "?" dropped), so the signed token matches. */
function normalizePath(path: string): string {
  const u = new URL(path, "https://auth.invalid");
  return u.pathname + u.search;
}
