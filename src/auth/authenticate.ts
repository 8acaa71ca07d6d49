// Turns a request's signed token into a caller: a person (checked against the user
// CA, their current roles from the store) or a registered node (its identity key).
import { decodeToken, bodyHash, TOKEN_WINDOW_MS, type TokenPayload } from "../core/request-token.ts";
import { checkCertificate, parseCertificate } from "../core/sshcert.ts";
import { parseAuthorizedKeyLine, verifySshSignature } from "../core/ssh-key.ts";
import type { Role } from "../core/resources.ts";
import type { LockIndex } from "../core/lock-index.ts";
import { lockMessage } from "../core/lock-match.ts";
import { forbidden, unauthorized } from "./http-error.ts";
import type { ReplayGuard } from "./replay-guard.ts";
import type { Store } from "./store.ts";

export type Caller =
  | { kind: "user"; name: string; roles: Role[]; roleNames: string[]; certValidBefore?: Date }
  | { kind: "node"; serverId: string };

export interface AuthenticateDeps {
  store: Store;
  locks: () => LockIndex;
  userCaBlob: Uint8Array;
  replay: ReplayGuard;
  now: () => Date;
}

export function authenticate(req: Request, body: Uint8Array, deps: AuthenticateDeps): Caller {
  const header = req.headers.get("authorization");
  if (!header) throw unauthorized("authentication required: run `hostward login` or pass --identity");
  let payload: TokenPayload, signedBytes: Uint8Array, signature: Uint8Array;
  try {
    ({ payload, signedBytes, signature } = decodeToken(header));
  } catch (e) {
    throw unauthorized((e as Error).message);
  }
  const now = deps.now();
  const url = new URL(req.url);
  if (Math.abs(now.getTime() - payload.iat) > TOKEN_WINDOW_MS) throw unauthorized("request token is outside its time window (check the clocks)");
  if (payload.m !== req.method || payload.p !== url.pathname + url.search) throw unauthorized("request token was made for another request");
  if (payload.bh !== bodyHash(body)) throw unauthorized("request body does not match its token");
  const caller = "node" in payload.sub
    ? nodeCaller(payload.sub.node, signedBytes, signature, deps)
    : userCaller(payload.sub.cert, signedBytes, signature, deps, now);
  if (!deps.replay.check(payload.nonce, now.getTime())) throw unauthorized("request token was already used");
  return caller;
}

function nodeCaller(serverId: string, signed: Uint8Array, sig: Uint8Array, deps: AuthenticateDeps): Caller {
  const node = deps.store.getNode(serverId);
  if (!node) throw unauthorized(`unknown node ${JSON.stringify(serverId.slice(0, 64))}`);
  const key = parseAuthorizedKeyLine(node.identityKey);
  if (!verifySshSignature(key.blob, signed, sig)) throw unauthorized("node signature does not verify");
  return { kind: "node", serverId };
}

function userCaller(certB64: string, signed: Uint8Array, sig: Uint8Array, deps: AuthenticateDeps, now: Date): Caller {
  let cert;
  try {
    cert = parseCertificate(Buffer.from(certB64, "base64"));
  } catch (e) {
    throw unauthorized(`bad certificate: ${(e as Error).message}`);
  }
  const check = checkCertificate(cert, { caKeys: [deps.userCaBlob], certType: "user", now });
  if (!check.ok) {
    const hint = check.reason.startsWith("certificate expired") ? "; ask an admin for a new one (hostward ctl users sign)" : "";
    throw unauthorized(check.reason + hint);
  }
  if (!verifySshSignature(cert.key.blob, signed, sig)) throw unauthorized("request signature does not verify with the certified key");
  const validBefore = Number(cert.validBefore) * 1000; // "forever" (2^64-1) is past what a Date holds
  return { ...personCaller(cert.keyId, deps, now), ...(validBefore < 8.64e15 ? { certValidBefore: new Date(validBefore) } : {}) };
}

/**
 * A person known by name (their certificate already checked, now or at a web sign-in):
 * their current roles, refused when they no longer exist or are locked.
 */
export function personCaller(name: string, deps: Pick<AuthenticateDeps, "store" | "locks">, now: Date): Caller & { kind: "user" } {
  const user = deps.store.getResource("user", name);
  if (!user) throw unauthorized(`user ${JSON.stringify(name)} does not exist`);
  const roles = user.roles.map((r) => deps.store.getResource("role", r)).filter((r): r is Role => r !== undefined);
  // A person's locks apply to the API too, not only to SSH on the nodes.
  const lock = deps.locks().match({ user: user.name, roles: user.roles }, now);
  if (lock) throw forbidden(lockMessage(lock));
  return { kind: "user", name: user.name, roles, roleNames: user.roles };
}
