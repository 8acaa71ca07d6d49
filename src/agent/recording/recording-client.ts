// The agent's calls to the auth service's recording endpoints. Parts travel as raw
// bytes (the request token signs their hash); everything else is JSON.
import { ApiError, type ApiClient } from "../../platform/api-client.ts";

const PART_TIMEOUT_MS = 30_000;

export interface RecordingMetaBody {
  user: string;
  login: string;
  kind: string;
  command?: string;
  mode: string;
  started: string;
}

export interface UploadState {
  /** The next part number the auth service expects. */
  next: number;
  state: "open" | "complete" | "corrupt";
}

export class RecordingClient {
  constructor(private readonly api: ApiClient) {}

  open(sid: string, meta: RecordingMetaBody): Promise<UploadState> {
    return this.api.request<UploadState>("PUT", `/v1/recordings/${sid}`, meta);
  }

  complete(sid: string, body: { parts: number; interrupted: boolean }): Promise<UploadState> {
    return this.api.request<UploadState>("POST", `/v1/recordings/${sid}/complete`, body);
  }

  reportCorrupt(sid: string, reason: string): Promise<unknown> {
    return this.api.request("POST", `/v1/recordings/${sid}/corrupt`, { reason: reason.slice(0, 500) });
  }

  /** Open sync-mode uploads of this node from before its restart: finished as interrupted. */
  orphans(): Promise<{ finished: number }> {
    return this.api.request("POST", "/v1/recordings/orphans", {});
  }

  /** `timeoutMs`: how long one replica may take before the part goes to the next. */
  async putPart(sid: string, n: number, bytes: Uint8Array, timeoutMs = PART_TIMEOUT_MS): Promise<UploadState> {
    const path = `/v1/recordings/${sid}/parts/${n}`;
    const server = this.api.authServer;
    let res: Response;
    try {
      res = await fetch(`https://${server}${path}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream", authorization: this.api.authorization("PUT", path, bytes) },
        body: bytes, tls: this.api.tls, signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      this.api.failover(server); // the uploader retries the part; another replica takes it
      throw new ApiError(0, `cannot reach auth server ${server}: ${(e as Error).message}`);
    }
    if (res.status === 503) this.api.failover(server);
    const body = (await res.json().catch(() => ({}))) as UploadState & { error?: string };
    if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
    return body;
  }
}
