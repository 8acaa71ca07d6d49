// Fetches a finished recording's bytes from the auth service, keeping what arrived if
// the transfer is cut short (the caller says so; `play` can still show that much).
import { ApiError, type ApiClient } from "./api-client.ts";
import { badSessionIdMessage, isSessionId } from "../core/session-id.ts";

export interface Download {
  bytes: Uint8Array;
  /** complete, interrupted or corrupt. */
  state: string;
  /** Set when fewer bytes arrived than the server announced. */
  cut?: string;
}

export async function downloadRecording(client: ApiClient, sid: string): Promise<Download> {
  if (!isSessionId(sid)) throw new ApiError(0, badSessionIdMessage(sid));
  const path = `/v1/recordings/${sid}/download`;
  const authorization = await client.authorize("GET", path);
  let res: Response;
  try {
    res = await fetch(`https://${client.authServer}${path}`, { headers: { authorization }, tls: client.tls });
  } catch (e) {
    throw new ApiError(0, `cannot reach auth server ${client.authServer}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  }
  const expected = Number(res.headers.get("content-length") ?? "NaN");
  const chunks: Uint8Array[] = [];
  let got = 0;
  let cut: string | undefined;
  try {
    for await (const c of res.body!) {
      chunks.push(c);
      got += c.length;
    }
  } catch (e) {
    cut = `download cut short after ${got} bytes: ${(e as Error).message}`;
  }
  if (!cut && Number.isFinite(expected) && got !== expected) cut = `download cut short: ${got} of ${expected} bytes arrived`;
  return { bytes: Buffer.concat(chunks), state: res.headers.get("x-hostward-recording-state") ?? "complete", cut };
}
