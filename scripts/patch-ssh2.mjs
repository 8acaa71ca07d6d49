// Applies hostward's one patch to ssh2 (run by npm's postinstall): ssh2 writes the
// negotiated host-key algorithm as the signature type, which is wrong for host
// certificates ("ssh-ed25519-cert-v01@openssh.com" keys sign as "ssh-ed25519").
// The patch lets a host key object name its signature type. Idempotent; fails
// loudly if the pinned ssh2 source changed.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const file = fileURLToPath(new URL("../node_modules/ssh2/lib/protocol/kex.js", import.meta.url));
const before = "const sigType = this.negotiated.serverHostKey;";
const after = "const sigType = (this._hostKey.hostwardSignatureType || this.negotiated.serverHostKey);";
const src = readFileSync(file, "utf8");
if (src.includes(after)) process.exit(0);
if (!src.includes(before)) {
  console.error(`patch-ssh2: ${file}: anchor not found; ssh2 version changed?`);
  process.exit(1);
}
writeFileSync(file, src.replace(before, after));
