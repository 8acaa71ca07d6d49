// Network addresses as "host:port" or "[v6]:port": parse with an optional default port, format back.
// Hostnames and IP literals only — no schemes, paths or empty hosts.

export interface HostPort {
  host: string;
  port: number;
}

const _NAME = /^[A-Za-z0-9_]([A-Za-z0-9._-]*)$/;
const _V6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?$/;

/** Parses `host:port`, `[::1]:port`, or a bare `host` / `[::1]` when defaultPort is given. */
export function parseHostPort(s: string, defaultPort?: number): HostPort {
  const bad = (why: string) => new Error(`bad address ${JSON.stringify(s.slice(0, 100))}: ${why}`);
  let host: string;
  let portText: string | undefined;
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) throw bad("missing ']'");
    host = s.slice(1, end);
    const after = s.slice(end + 1);
    if (after !== "" && !after.startsWith(":")) throw bad("expected ':' after ']'");
    portText = after === "" ? undefined : after.slice(1);
    if (!_V6.test(host)) throw bad("brackets are only for IPv6 addresses");
  } else {
    const parts = s.split(":");
    if (parts.length > 2) throw bad('IPv6 addresses need brackets, e.g. "[::1]:3025"');
    host = parts[0]!;
    portText = parts[1];
    if (host === "") throw bad('missing host (use "0.0.0.0" for all interfaces)');
    if (!_NAME.test(host)) throw bad("host must be a hostname or IP address");
  }
  if (portText === undefined) {
    if (defaultPort === undefined) throw bad("missing port");
    return { host, port: defaultPort };
  }
  return { host, port: _parsePort(portText, bad) };
}

/** Formats back to `host:port`, bracketing IPv6 literals. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

function _parsePort(text: string, bad: (why: string) => Error): number {
  if (!/^\d{1,5}$/.test(text)) throw bad("port must be a number from 0 to 65535");
  const port = Number(text);
  if (port > 65535) throw bad("port must be a number from 0 to 65535");
  return port;
}
