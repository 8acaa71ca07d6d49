// The ssh2 write-coalescing patch (scripts/patch-ssh2.mjs, step 3): every write ssh2's
// server makes lands while the socket is corked, the cork is released when the turn
// ends, and a real SSH client still completes a key exchange and authentication.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import { createRequire } from "node:module";
import ssh2 from "ssh2";

const require = createRequire(import.meta.url);

function hostKey(): string {
  return ssh2.utils.generateKeyPairSync("ed25519").private;
}

describe("ssh2 write coalescing", () => {
  test("the pinned ssh2 carries the patch", () => {
    expect(readFileSync(require.resolve("ssh2/lib/server.js"), "utf8")).toContain("one socket write per turn (scripts/patch-ssh2.mjs, step 3)");
  });

  test("writes happen corked, the cork is gone after the turn, and a client gets through", async () => {
    const server = new ssh2.Server({ hostKeys: [hostKey()] }, (client) => {
      client.on("authentication", (ctx) => (ctx.method === "none" ? ctx.accept() : ctx.reject()));
      client.on("ready", () => client.end());
      client.on("error", () => {});
    });
    const events: string[] = [];
    const uncorkedWrites: number[] = [];
    // Spy on the server side of each connection before ssh2 sees it.
    (server as unknown as { _srv: import("node:net").Server })._srv.prependListener("connection", (sock: Socket) => {
      const write = sock.write.bind(sock);
      sock.write = ((data: Uint8Array, ...rest: unknown[]) => {
        if (sock.writableCorked === 0) uncorkedWrites.push(data.length);
        events.push("write");
        return (write as (...a: unknown[]) => boolean)(data, ...rest);
      }) as typeof sock.write;
      const uncork = sock.uncork.bind(sock);
      sock.uncork = () => {
        events.push("uncork");
        uncork();
        // Checked after the turn that uncorked: nothing stays corked.
        setImmediate(() => events.push(`corked=${sock.writableCorked}`));
      };
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const ready = await new Promise<boolean>((resolve, reject) => {
      const c = new ssh2.Client();
      c.on("ready", () => { c.end(); resolve(true); });
      c.on("error", reject);
      c.connect({ host: "127.0.0.1", port, username: "u", readyTimeout: 10_000 });
    });
    server.close();
    expect(ready).toBe(true);
    expect(events.filter((e) => e === "write").length).toBeGreaterThan(3);
    expect(uncorkedWrites).toEqual([]);
    expect(events.filter((e) => e.startsWith("corked=")).every((e) => e === "corked=0")).toBe(true);
  });
});
