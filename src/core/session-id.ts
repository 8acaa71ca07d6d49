// Session ids name spool directories, storage keys and URLs, so they are checked
// before any of those is touched: a lowercase UUID and nothing else.
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isSessionId(s: string): boolean {
  return SESSION_ID.test(s);
}

/** The refusal for a string that is not a session id, cut short and quoted. */
export function badSessionIdMessage(s: string): string {
  const shown = JSON.stringify(s.length > 60 ? s.slice(0, 60) + "…" : s);
  return `${shown} is not a session id (expected a UUID such as 0b7d9c52-3f5e-4c1a-9a57-2d8e6f3b1c90)`;
}
