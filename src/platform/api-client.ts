// HTTPS client for the auth service API: trusts only the pinned cluster CA and signs
// every request with the caller's key (a person's certificate or a node's identity).
// Nothing here loads node:crypto, node:net or node:dns when the module loads: `hostward
// ctl` signs with a WebCrypto key and pays for none of them (~15 ms of CPU per command).
import type { KeyObject } from "node:crypto";
import { parseIp } from "../core/cidr.ts";
import { bodyHash, encodeToken, tokenBytes, TOKEN_WINDOW_MS, type TokenPayload, type TokenSubject } from "../core/request-token.ts";
import { ServerClock, serverTimeOf, type ClockSync } from "./server-clock.ts";
import { signEd25519 } from "../core/ssh-key.ts";
import { ApiError } from "./api-error.ts";

/**
 * Who signs requests, with an Ed25519 key: a node:crypto key signs synchronously (the
 * agent); a WebCrypto key (the CLI) only asynchronously, so `authorization()` refuses it.
 */
export type Signer = { subject: TokenSubject; privateKey: KeyObject } | { subject: TokenSubject; webKey: Promise<CryptoKey> };

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
  const { pinMatches } = await import("../core/ca-pin.ts");
  if (!pinMatches(body.ca_cert, pin)) throw new ApiError(0, `auth server ${authServer} does not match CA pin ${pin}: refusing to trust it`);
  return body.ca_cert;
}

export class ApiClient {
  /** Requests are signed on the auth service's time as learnt from its answers (an agent plugs in its own). */
  clock: ClockSync = new ServerClock();
  readonly #servers: AuthServers;

  /** `servers`: one auth address, or several replicas (a name may resolve to several addresses). */
  constructor(servers: string | string[], readonly caCertPem: string, private readonly signer?: Signer) {
    this.#servers = new AuthServers(typeof servers === "string" ? [servers] : servers);
  }

  /** The replica in use: the last one that answered. */
  get authServer(): string {
    return this.#servers.current;
  }

  /**
   * The caller found replica `gone` unusable: move to the next one, unless another
   * caller already moved on (requests fail together when a replica dies, and each
   * stepping on would walk the others back onto the dead one).
   */
  failover(gone: string): void {
    this.#servers.moveOff(gone);
  }

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

  /**
   * Sends to the current replica; one that cannot be reached, or answers 503 (its store
   * is down), is left for the next, each tried once. A retried request is signed anew.
   */
  async #send(method: string, path: string, bytes: Uint8Array | undefined): Promise<Response & { skewed?: boolean }> {
    const tries = await this.#servers.candidates();
    let failure: unknown;
    for (let i = 0; i < tries; i++) {
      const server = this.#servers.current;
      try {
        const res = await this.#sendTo(server, method, path, bytes);
        if (res.status !== 503 || i === tries - 1) return res;
        failure = undefined;
        await res.body?.cancel().catch(() => {});
      } catch (e) {
        failure = e;
      }
      this.#servers.moveOff(server);
    }
    throw failure ?? new ApiError(503, "every auth server is unavailable");
  }

  async #sendTo(server: string, method: string, path: string, bytes: Uint8Array | undefined): Promise<Response & { skewed?: boolean }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const iat = this.clock.now();
    if (this.signer) headers.authorization = await this.authorize(method, path, bytes, iat);
    const sentAt = Date.now();
    let res: Response;
    try {
      res = await fetch(`https://${server}${path}`, { method, headers, body: bytes, tls: this.tls, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (e) {
      throw new ApiError(0, `cannot reach auth server ${server}: ${(e as Error).message}`);
    }
    const serverMs = serverTimeOf(res.headers);
    if (serverMs === undefined) return res;
    this.clock.observe(sentAt, Date.now(), serverMs);
    return Object.assign(res, { skewed: Math.abs(serverMs - iat) > TOKEN_WINDOW_MS / 2 });
  }

  /** The signed header for one request (also used for the WebSocket upgrade), with a node:crypto key. */
  authorization(method: string, path: string, body: Uint8Array = new Uint8Array(), iat = this.clock.now()): string {
    const signer = this.#signer();
    if (!("privateKey" in signer)) throw new Error("this identity signs asynchronously: use authorize()");
    return encodeToken(this.#payload(signer, method, path, body, iat), (data) => signEd25519(signer.privateKey, data));
  }

  /** The signed header for one request, with either kind of key. */
  async authorize(method: string, path: string, body: Uint8Array = new Uint8Array(), iat = this.clock.now()): Promise<string> {
    const signer = this.#signer();
    if ("privateKey" in signer) return this.authorization(method, path, body, iat);
    const payload = this.#payload(signer, method, path, body, iat);
    const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", await signer.webKey, tokenBytes(payload)));
    return encodeToken(payload, () => signature);
  }

  #signer(): Signer {
    if (!this.signer) throw new Error("no identity to sign requests with");
    return this.signer;
  }

  #payload(signer: Signer, method: string, path: string, body: Uint8Array, iat: number): TokenPayload {
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
    return { v: 1, sub: signer.subject, iat, nonce, m: method, p: normalizePath(path), bh: bodyHash(body) };
  }
}

/**
 * The auth replicas to try, in order, the current one first. A configured name with
 * several addresses (DNS round robin) counts as each of its addresses.
 */
class AuthServers {
  #expanded: string[];
  #index = 0;
  #resolvedAt = 0;

  constructor(private readonly configured: string[]) {
    this.#expanded = [...configured];
  }

  get current(): string {
    return this.#expanded[this.#index % this.#expanded.length]!;
  }

  /** The next replica becomes current, if `server` still is (a caller that saw it fail). */
  moveOff(server: string): void {
    if (this.current === server) this.#index = (this.#index + 1) % this.#expanded.length;
  }

  /** How many to try for one request (names re-resolved at most every 30 s). */
  async candidates(): Promise<number> {
    if (this.configured.some(isName) && Date.now() - this.#resolvedAt > 30_000) {
      this.#resolvedAt = Date.now();
      const current = this.current;
      const lists = await Promise.all(this.configured.map((s) => expand(s)));
      this.#expanded = [...new Set(lists.flat())];
      this.#index = Math.max(0, this.#expanded.indexOf(current));
    }
    return this.#expanded.length;
  }
}

function isName(server: string): boolean {
  const host = server.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  try {
    parseIp(host);
    return false;
  } catch {
    return true;
  }
}

async function expand(server: string): Promise<string[]> {
  if (!isName(server)) return [server];
  const m = /^(.*):(\d+)$/.exec(server);
  const [host, port] = m ? [m[1]!, m[2]!] : [server, "3025"];
  try {
    const addrs = await (await import("node:dns/promises")).lookup(host, { all: true });
    return addrs.length ? addrs.map((a) => (a.family === 6 ? `[${a.address}]:${port}` : `${a.address}:${port}`)) : [server];
  } catch {
    return [server]; // unresolvable now: fetch will say so
  }
}

/** The path as the server will see it (e.g. a bare trailing "?" dropped), so the signed token matches. */
function normalizePath(path: string): string {
  const u = new URL(path, "https://auth.invalid");
  return u.pathname + u.search;
}
