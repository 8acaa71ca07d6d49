// The auth service's time as a client estimates it: the local clock plus an offset
// taken from the time the auth service puts on every answer (half the round trip, as NTP).
import { SERVER_TIME_HEADER } from "../core/request-token.ts";

/** Whose time a caller signs with, fed by the time every answer carries. */
export interface ClockSync {
  now(): number;
  /** One round trip: local send and receive times, and the server's time in its answer. */
  observe(sentAt: number, receivedAt: number, serverMs: number): void;
}

/** The server's time from an answer's header, when it carries one. */
export function serverTimeOf(headers: { get(name: string): string | null }): number | undefined {
  const v = Number(headers.get(SERVER_TIME_HEADER) ?? NaN);
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

export class ServerClock implements ClockSync {
  /** Server time minus local time, in ms (positive: the local clock is behind). */
  offsetMs: number;
  /** Whether any answer has been seen since this process started. */
  measured = false;

  constructor(initialOffsetMs = 0) {
    this.offsetMs = initialOffsetMs;
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }

  observe(sentAt: number, receivedAt: number, serverMs: number): void {
    // The server stamped its answer somewhere in the round trip; the middle is the best guess.
    this.offsetMs = Math.round(serverMs - (sentAt + receivedAt) / 2);
    this.measured = true;
  }
}
