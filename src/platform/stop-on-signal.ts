// Stopping a long-running command (auth, agent, dev) on SIGINT/SIGTERM: one graceful
// stop, then exit 0; a second signal while stopping is ignored.

export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().finally(() => process.exit(0));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
