import { useState } from "preact/hooks";
import { api } from "../api";
import { errorText } from "../components";
import { useTitle } from "../hooks";
import { html } from "../html";
import { navigate } from "../router";
import { clearSession, saveSession, type Session } from "../session";
import type { FlowList } from "../types";

/**
 * Sign in with an API key, or with the admin key and the organization it should act in (`x-org-id`).
 * The key is checked with one read of the flows list before it is kept.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  useTitle("Sign in");
  const [key, setKey] = useState("");
  const [orgId, setOrgId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const session = { key: key.trim(), orgId: orgId.trim() };
    if (!session.key) {
      setError("Enter a key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api<FlowList>("GET", "/v1/automation/flows?size=1", undefined, session);
      saveSession(session);
      onSignedIn(session);
      navigate("/flows");
    } catch (err) {
      clearSession();
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return html`<section class="card signin" aria-labelledby="signin-title">
    <h1 id="signin-title">Sign in</h1>
    <p>
      Use an API key (<code>ak_…</code>) or a JWT of your organization, or the admin key with the organization it should act in.
      The key stays in this tab (session storage) and is sent only to this engine's API.
    </p>
    <form onSubmit=${submit} data-testid="signin-form">
      <label for="signin-key">API key</label>
      <input
        id="signin-key"
        name="key"
        type="password"
        autocomplete="off"
        required
        value=${key}
        onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)}
      />
      <label for="signin-org">Organization id <span class="hint">(only with the admin key)</span></label>
      <input
        id="signin-org"
        name="org"
        type="text"
        autocomplete="off"
        value=${orgId}
        onInput=${(e: Event) => setOrgId((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled=${busy}>${busy ? "Checking…" : "Sign in"}</button>
      ${error ? html`<p class="state error" role="alert" data-testid="signin-error">${error}</p>` : null}
    </form>
  </section>`;
}
