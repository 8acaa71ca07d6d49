// What every ctl subcommand gets: a lazily made API client for the selected identity.
import type { ApiClient } from "../platform/api-client.ts";

export interface CtlContext {
  client(): ApiClient;
}

export type CtlCommand = (args: string[], ctx: CtlContext) => Promise<void>;
