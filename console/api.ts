import { loadSession, type Session } from "./session";

/** The API's error body: `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path?: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Thrown before any request when nobody is signed in. */
export class SignedOut extends Error {}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { path?: string; message: string }[] };
}

function headersFor(session: Session, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${session.key}`, accept: "application/json" };
  if (session.orgId) headers["x-org-id"] = session.orgId;
  if (hasBody) headers["content-type"] = "application/json";
  return headers;
}

/**
 * Calls the public API as the signed-in caller: the console has no endpoint of its own, so it can do exactly
 * what the key may do. `session` overrides the stored one (the sign-in check).
 */
export async function api<T>(method: string, path: string, body?: unknown, session?: Session): Promise<T> {
  const creds = session ?? loadSession();
  if (!creds) throw new SignedOut("Not signed in");
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headersFor(creds, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(
      0,
      "NETWORK_ERROR",
      `The engine could not be reached (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null; // not JSON (a proxy's error page): the status and text say what happened
  }
  if (!res.ok) {
    const e = (parsed as ErrorBody | null)?.error;
    throw new ApiError(
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      e?.message ?? (text.slice(0, 200) || res.statusText),
      e?.details,
    );
  }
  return parsed as T;
}

/** A path segment, escaped (ids come from URLs the user may have typed). */
export const seg = (value: string): string => encodeURIComponent(value);

/** A query string of the defined values. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
