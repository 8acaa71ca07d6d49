import { describe, expect, test } from "bun:test";
import { formatHostPort, parseHostPort, type HostPort } from "../../src/core/host-port.ts";

describe("parseHostPort", () => {
  const good: [string, number | undefined, HostPort, string][] = [
    ["127.0.0.1:3025", undefined, { host: "127.0.0.1", port: 3025 }, "127.0.0.1:3025"],
    ["auth.example.com:443", 3025, { host: "auth.example.com", port: 443 }, "auth.example.com:443"],
    ["auth.example.com", 3025, { host: "auth.example.com", port: 3025 }, "auth.example.com:3025"],
    ["[::1]:3022", undefined, { host: "::1", port: 3022 }, "[::1]:3022"],
    ["[::]", 3022, { host: "::", port: 3022 }, "[::]:3022"],
    ["[fe80::1%eth0]:22", undefined, { host: "fe80::1%eth0", port: 22 }, "[fe80::1%eth0]:22"],
    ["0.0.0.0:0", undefined, { host: "0.0.0.0", port: 0 }, "0.0.0.0:0"],
    ["my_host:65535", undefined, { host: "my_host", port: 65535 }, "my_host:65535"],
  ];
  test.each(good)("%p (default %p)", (s, def, want, formatted) => {
    expect(parseHostPort(s, def)).toEqual(want);
    expect(formatHostPort(want)).toBe(formatted);
    expect(parseHostPort(formatted)).toEqual(want);
  });

  const bad: [string, number | undefined, string][] = [
    ["auth.example.com", undefined, "missing port"],
    ["", 3025, 'missing host (use "0.0.0.0" for all interfaces)'],
    [":3025", undefined, 'missing host (use "0.0.0.0" for all interfaces)'],
    ["::1", 3025, 'IPv6 addresses need brackets, e.g. "[::1]:3025"'],
    ["[::1", undefined, "missing ']'"],
    ["[::1]3025", undefined, "expected ':' after ']'"],
    ["[example.com]:1", undefined, "brackets are only for IPv6 addresses"],
    ["host:99999", undefined, "port must be a number from 0 to 65535"],
    ["host:http", undefined, "port must be a number from 0 to 65535"],
    ["host:", undefined, "port must be a number from 0 to 65535"],
    ["host:-1", undefined, "port must be a number from 0 to 65535"],
    ["http://host:1", undefined, 'IPv6 addresses need brackets, e.g. "[::1]:3025"'],
    ["bad host:1", undefined, "host must be a hostname or IP address"],
    ["host/path:1", undefined, "host must be a hostname or IP address"],
  ];
  test.each(bad)("%p (default %p) is refused", (s, def, reason) => {
    expect(() => parseHostPort(s, def)).toThrow(new Error(`bad address ${JSON.stringify(s)}: ${reason}`));
  });
});
