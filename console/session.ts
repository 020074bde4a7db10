/** The signed-in credentials, kept in sessionStorage: they end with the browser tab, never in localStorage. */
export interface Session {
  /** An API key (`ak_…`), a JWT, or the admin key. */
  key: string;
  /** The organization the admin key acts in (sent as `x-org-id`); empty for an API key, which carries its own. */
  orgId: string;
}

const STORAGE_KEY = "automation-console.session";

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    return typeof parsed.key === "string" && parsed.key ? { key: parsed.key, orgId: parsed.orgId ?? "" } : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
