// Unauthenticated endpoints: the CA certificate (checked by the caller against its
// pin), ping, and join, which is authorised by the single-purpose join token it carries.
import { VERSION } from "../../platform/version.ts";
import type { Route } from "../api.ts";
import { asBody, labels, str } from "../body-fields.ts";

export function publicRoutes(caCertPem: string): Route[] {
  return [
    { method: "GET", path: "/v1/ca", public: true, handler: () => ({ ca_cert: caCertPem }) },
    { method: "GET", path: "/v1/ping", public: true, handler: ({ svc }) => ({ cluster_name: svc.clusterName, version: VERSION }) },
    {
      method: "POST", path: "/v1/join", public: true,
      handler: async ({ body, svc }) => {
        const b = asBody(body);
        const { hostCert, node } = await svc.join({
          token: str(b, "token", { max: 200 }),
          serverId: str(b, "server_id", { max: 36 }),
          hostname: str(b, "hostname", { max: 253 }),
          addr: str(b, "addr", { max: 300 }),
          labels: labels(b, "labels"),
          identityKey: str(b, "identity_key"),
          hostKey: str(b, "host_key"),
          version: str(b, "version", { optional: true, max: 100 }),
        });
        return {
          host_cert: hostCert,
          server_id: node.serverId,
          cluster_name: svc.clusterName,
          user_ca_keys: [svc.cas.user.publicLine],
          host_ca_keys: [svc.cas.host.publicLine],
        };
      },
    },
  ];
}
