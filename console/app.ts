import { useState } from "preact/hooks";
import { html } from "./html";
import { useRoute } from "./router";
import { clearSession, loadSession, type Session } from "./session";
import { BulkJobPage, BulkJobsPage } from "./pages/bulk";
import { FlowPage } from "./pages/flow";
import { FlowsPage } from "./pages/flows";
import { RunPage } from "./pages/run";
import { RunsPage } from "./pages/runs";
import { SignIn } from "./pages/signin";

const NAV = [
  { section: "flows", label: "Flows" },
  { section: "runs", label: "Runs" },
  { section: "bulk-jobs", label: "Bulk jobs" },
];

function NotFound() {
  return html`<section>
    <h1>Not found</h1>
    <p>No console page here. <a href="#/flows">Go to the flows</a>.</p>
  </section>`;
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [section, id] = route.parts;

  let page;
  if (!session || section === "signin") page = html`<${SignIn} onSignedIn=${setSession} />`;
  else if (!section || section === "flows")
    page = id ? html`<${FlowPage} flowId=${id} />` : html`<${FlowsPage} route=${route} />`;
  else if (section === "runs") page = id ? html`<${RunPage} runId=${id} />` : html`<${RunsPage} route=${route} />`;
  else if (section === "bulk-jobs") page = id ? html`<${BulkJobPage} jobId=${id} />` : html`<${BulkJobsPage} />`;
  else page = html`<${NotFound} />`;

  const signOut = () => {
    clearSession();
    setSession(null);
    location.hash = "#/signin";
  };
  const current = section || "flows";

  // Not a plain "#main" link: the hash is the router's, so the skip link moves focus itself.
  const skip = (e: Event) => {
    e.preventDefault();
    document.getElementById("main")?.focus();
  };

  return html`<a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/flows">Automation console</a>
      ${
        session
          ? html`<nav aria-label="Main">
                <ul>
                  ${NAV.map(
                    (n) =>
                      html`<li>
                        <a href=${`#/${n.section}`} aria-current=${current === n.section ? "page" : undefined}>${n.label}</a>
                      </li>`,
                  )}
                  <li><a href="/docs">API docs</a></li>
                </ul>
              </nav>
              <button type="button" class="link" onClick=${signOut} data-testid="sign-out">
                Sign out${session.orgId ? ` (${session.orgId})` : ""}
              </button>`
          : null
      }
    </header>
    <main id="main" tabindex="-1">${page}</main>`;
}
