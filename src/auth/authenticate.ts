// Turns a request's signed token into a caller: a person (checked against the user
// CA and every restriction of their certificate, their current roles from the store)
// or a registered node (its identity key).
import { decodeToken, bodyHash, skewPhrase, TOKEN_WINDOW_MS, type TokenPayload } from "../core/request-token.ts";
import { checkCertificate, checkCertSourceAddress, parseCertificate, type SshCertificate } from "../core/sshcert.ts";
import { parseAuthorizedKeyLine, verifySshSignature } from "../core/ssh-key.ts";
import type { Role } from "../core/resource-types.ts";
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

/** A caller whose token verified on its headers; `finish` checks the body and spends the nonce. */
export interface PendingCaller {
  finish(body: Uint8Array): Promise<Caller>;
}

/**
 * Everything that can be checked before the body is read: an unauthenticated client
 * never gets its body read past what a login needs (nothing, here).
 */
export async function authenticateHeaders(req: Request, clientAddress: string | undefined, deps: AuthenticateDeps): Promise<PendingCaller> {
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
  if (Math.abs(now.getTime() - payload.iat) > TOKEN_WINDOW_MS) {
    throw unauthorized(`request token is outside its time window: the caller's clock is ${skewPhrase(payload.iat, now.getTime())} the auth service`);
  }
  if (payload.m !== req.method || payload.p !== url.pathname + url.search) throw unauthorized("request token was made for another request");
  const caller = "node" in payload.sub
    ? await nodeCaller(payload.sub.node, signedBytes, signature, deps)
    : await userCaller(payload.sub.cert, signedBytes, signature, clientAddress, deps, now);
  return {
    async finish(body) {
      if (payload.bh !== bodyHash(body)) throw unauthorized("request body does not match its token");
      if (!(await deps.replay.check(payload.nonce, now))) throw unauthorized("request token was already used");
      return caller;
    },
  };
}

async function nodeCaller(serverId: string, signed: Uint8Array, sig: Uint8Array, deps: AuthenticateDeps): Promise<Caller> {
  const node = await deps.store.getNode(serverId);
  if (!node) throw unauthorized(`unknown node ${JSON.stringify(serverId.slice(0, 64))}`);
  const key = parseAuthorizedKeyLine(node.identityKey);
  if (!verifySshSignature(key.blob, signed, sig)) throw unauthorized("node signature does not verify");
  return { kind: "node", serverId };
}

async function userCaller(certB64: string, signed: Uint8Array, sig: Uint8Array, clientAddress: string | undefined, deps: AuthenticateDeps, now: Date): Promise<Caller> {
  let cert;
  try {
    cert = parseCertificate(Buffer.from(certB64, "base64"));
  } catch (e) {
    throw unauthorized(`bad certificate: ${(e as Error).message}`);
  }
  // The same checks as an SSH login: trust, type, validity, critical options…
  const check = checkCertificate(cert, { caKeys: [deps.userCaBlob], certType: "user", now });
  if (!check.ok) {
    const hint = check.reason.startsWith("certificate expired") ? "; ask an admin for a new one (hostward ctl users sign)" : "";
    throw unauthorized(check.reason + hint);
  }
  // …and source-address against the TCP peer (fail closed when it is unknown).
  const source = checkCertSourceAddress(cert, clientAddress ?? "unknown");
  if (!source.ok) throw forbidden(source.reason);
  refuseForcedCommand(cert);
  if (!verifySshSignature(cert.key.blob, signed, sig)) throw unauthorized("request signature does not verify with the certified key");
  const validBefore = Number(cert.validBefore) * 1000; // "forever" (2^64-1) is past what a Date holds
  return { ...(await personCaller(cert.keyId, deps, now)), ...(validBefore < 8.64e15 ? { certValidBefore: new Date(validBefore) } : {}) };
}

/**
 * A person known by name (their certificate already checked, now or at a web sign-in):
 * their current roles, refused when they no longer exist or are locked.
 */
export async function personCaller(name: string, deps: Pick<AuthenticateDeps, "store" | "locks">, now: Date): Promise<Caller & { kind: "user" }> {
  const user = await deps.store.getResource("user", name);
  if (!user) throw unauthorized(`user ${JSON.stringify(name)} does not exist`);
  const roles = (await Promise.all(user.roles.map((r) => deps.store.getResource("role", r)))).filter((r): r is Role => r !== undefined);
  // A person's locks apply to the API too, not only to SSH on the nodes.
  const lock = deps.locks().match({ user: user.name, roles: user.roles }, now);
  if (lock) throw forbidden(lockMessage(lock));
  return { kind: "user", name: user.name, roles, roleNames: user.roles };
}

/**
 * force-command limits a certificate to one command over SSH; the API has no such
 * command, so such a certificate (an automation key) may not use the API at all.
 */
function refuseForcedCommand(cert: SshCertificate): void {
  if (cert.criticalOptions.has("force-command")) {
    throw forbidden("this certificate is limited to one command (force-command) and cannot be used on the API");
  }
}
