/**
 * Who is calling and what they may do. Lives in lib/ (not api/) because services/, schemas/ and store/
 * need these types too, and nothing below api/ may import api/. Pure: no bindings, no I/O.
 */

export const SCOPES = ["automations:read", "automations:write", "automations:trigger", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, resolved by the auth middleware. */
export interface Principal {
  kind: "superuser" | "api_key" | "jwt";
  orgId: string;
  /** `user:<sub>` for JWTs, `api_key:<id>` for keys, `superuser` for the admin key. */
  actor: string;
  userId: string;
  email?: string;
  scopes: ReadonlySet<Scope>;
  apiKeyId?: string;
}

/** `admin` implies every other scope; the superuser has all of them. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has("admin") || principal.scopes.has(scope);
}
