// Graceful stop for the long-running commands (auth, agent, dev): the first SIGINT or
// SIGTERM runs the stop function once, then the process exits 0.
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
