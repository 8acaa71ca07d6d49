// The auth service's part-check worker: inflates and checks uploaded recording parts
// off the event loop, so a flood of recorded output never delays logins, locks or feeds.
import { checkPart } from "../../recording/format/part-codec.ts";
import type { CheckReply, CheckRequest } from "./part-checker.ts";

declare const self: Worker;

self.onmessage = (ev: MessageEvent<CheckRequest>) => {
  const { id, buf } = ev.data;
  let reply: CheckReply;
  try {
    reply = { id, buf, check: checkPart(new Uint8Array(buf)) };
  } catch (e) {
    // checkPart answers bad input itself; anything thrown here is our bug, reported as such.
    reply = { id, buf, error: (e as Error).message || String(e) };
  }
  // The part's memory goes back to the caller, who stores it (no copy either way).
  self.postMessage(reply, [buf]);
};
