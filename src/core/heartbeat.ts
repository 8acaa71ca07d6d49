// How often agents report in; the auth service counts a node offline after three misses.
export const HEARTBEAT_INTERVAL_MS = 10_000;
export const OFFLINE_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;
