// Structured JSON logs on stdout, one object per line (journald keeps them).
// Untrusted strings are cut short so a peer cannot flood or forge log lines; an
// Error is logged with its stack (for the operator; never sent to a client).
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const MAX_FIELD = 200;
const MAX_STACK = 4000;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(level: LogLevel = "info", base: Record<string, unknown> = {},
  write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const rec = { time: new Date().toISOString(), level: lvl, msg, ...base, ...clean(fields) };
    write(JSON.stringify(rec) + "\n");
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (f) => createLogger(level, { ...base, ...f }, write),
  };
}

function clean(fields?: Record<string, unknown>): Record<string, unknown> {
  if (!fields) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out[k] = truncate(v.message);
      if (v.stack) out[`${k}_stack`] = v.stack.length > MAX_STACK ? v.stack.slice(0, MAX_STACK) + "…" : v.stack;
    }
    else if (typeof v === "string") out[k] = truncate(v);
    else out[k] = v;
  }
  return out;
}

function truncate(s: string): string {
  return s.length > MAX_FIELD ? s.slice(0, MAX_FIELD) + "…" : s;
}
