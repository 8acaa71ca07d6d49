// The console's calls to the auth service's API (/api/v1/…), with the session's CSRF
// token on every call; a "signed out" answer closes everything live on the page.
export interface Me {
  user: string;
  roles: string[];
  csrf: string;
  expires: string;
  can: Record<string, boolean>;
  cluster_name: string;
  version: string;
  commit: string;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

let csrf = "";
const signedOutHandlers: ((message: string) => void)[] = [];

export function onSignedOut(fn: (message: string) => void): void {
  signedOutHandlers.push(fn);
}

export async function loadMe(): Promise<Me> {
  const me = await call<Me>("GET", "/web/me");
  csrf = me.csrf;
  return me;
}

export function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  return call<T>(method, `/api${path}`, body);
}

export async function signOut(): Promise<void> {
  await call("POST", "/web/signout");
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "x-csrf-token": csrf, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (res.status === 401 && data.signed_out) for (const fn of signedOutHandlers) fn(data.error);
  if (!res.ok) throw new ApiError(res.status, data.error ?? `HTTP ${res.status}`);
  return data as T;
}
