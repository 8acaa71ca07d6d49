// The address a node registers for people to reach it: the configured advertise
// address, else the listen address, with a wildcard host replaced by the host name.
import { hostname } from "node:os";
import { formatHostPort, type HostPort } from "../core/host-port.ts";

export function advertiseAddr(configured: string | undefined, listen: HostPort): string {
  if (configured) return configured;
  const wildcard = listen.host === "0.0.0.0" || listen.host === "::" || listen.host === "";
  return formatHostPort({ host: wildcard ? hostname() : listen.host, port: listen.port });
}
