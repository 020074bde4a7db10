import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, SignedOut } from "./api";
import { pretty, statusLabel } from "./format";
import { html } from "./html";

export function StatusBadge({ status }: { status: string }) {
  return html`<span class=${`badge status-${status}`} data-testid="status">${statusLabel(status)}</span>`;
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return html`<p class="state loading" role="status" aria-live="polite">${label}</p>`;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return html`<p class="state empty">${children}</p>`;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const details = error.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
    return `${error.message}${details ? ` (${details})` : ""} [${error.status || "network"} ${error.code}]`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNotice({ error, retry }: { error: unknown; retry?: () => void }) {
  const signedOut = error instanceof SignedOut || (error instanceof ApiError && error.status === 401);
  return html`<div class="state error" role="alert">
    <p>${signedOut ? "Your key was refused or you are signed out." : errorText(error)}</p>
    ${signedOut ? html`<p><a href="#/signin">Sign in</a></p>` : null}
    ${retry && !signedOut ? html`<button type="button" onClick=${retry}>Try again</button>` : null}
  </div>`;
}

/** A JSON value, folded away unless `open`. */
export function JsonBlock({
  label,
  value,
  open = false,
  testid,
}: {
  label: string;
  value: unknown;
  open?: boolean;
  testid?: string;
}) {
  if (value === undefined || value === null) return null;
  return html`<details class="json" open=${open} data-testid=${testid}>
    <summary>${label}</summary>
    <pre tabindex="0">${pretty(value)}</pre>
  </details>`;
}

/**
 * A button that runs an API call, shows that it is busy, and reports the outcome in a live region.
 * `confirm` asks first (for destructive controls).
 */
export function ActionButton({
  label,
  run,
  done,
  confirm: question,
  testid,
  variant = "",
}: {
  label: string;
  run: () => Promise<unknown>;
  done?: (result: unknown) => void;
  confirm?: string;
  testid?: string;
  variant?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const onClick = async () => {
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setMessage(null);
    try {
      const result = await run();
      setMessage({ ok: true, text: `${label}: done` });
      done?.(result);
    } catch (err) {
      setMessage({ ok: false, text: `${label} failed: ${errorText(err)}` });
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action-button">
    <button type="button" class=${variant} onClick=${onClick} disabled=${busy} aria-busy=${busy} data-testid=${testid}>
      ${busy ? `${label}…` : label}
    </button>
    <span role="status" class=${message ? (message.ok ? "ok" : "bad") : ""}>${message?.text ?? ""}</span>
  </span>`;
}
