// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; a race with
// another process grabbing it in between is possible but rare on a bench machine).
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("cannot find a free port"))));
    });
  });
}
