// node:crypto, loaded on first use rather than when a module that may need it loads:
// evaluating it (and the stream classes it pulls in) costs ~7 ms of CPU that `hostward ctl`
// (which signs with WebCrypto) and commands that never hash or verify should not pay.

let loaded: typeof import("node:crypto") | undefined;

export function nodeCrypto(): typeof import("node:crypto") {
  return (loaded ??= require("node:crypto") as typeof import("node:crypto"));
}
