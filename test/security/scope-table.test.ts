/**
 * Issue 24 item 5: docs/security.md has a table of every operation and the scope it needs, generated from the route
 * metadata the pipeline enforces (scripts/scope-table.mjs over GET /openapi.json), and this test keeps it in sync:
 * an operation added, removed or given another scope fails it until the table is regenerated
 * (`node scripts/scope-table.mjs --write --from <the dev server's /openapi.json>`).
 */
import { describe, expect, it } from "vitest";
import securityMd from "../../docs/security.md?raw";
import { scopeDrift, scopeRows, scopeTable } from "../../scripts/scope-table.mjs";
import { loadDocument } from "../support/openapi";

describe("docs/security.md's scope table (item 5)", async () => {
  const doc = await loadDocument();
  const rows = scopeRows(doc);

  it("lists every operation of /openapi.json with its scope (regenerate with scripts/scope-table.mjs --write)", () => {
    const drift = scopeDrift(securityMd, rows);
    if (drift.length > 0) console.log(`expected table:\n${scopeTable(rows).join("\n")}`);
    expect(drift).toEqual([]);
  });

  it("says what the route metadata says: public, superuser-only, conditional scopes, trigger limits", () => {
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get("generateWorkflow")).toMatchObject({ scope: "`automations:write`", trigger: true });
    expect(byId.get("ollamaDiagnostic")?.scope).toContain("`automations:trigger` with `generate=true`");
    expect(byId.get("resumeExecutionWithToken")?.scope).toMatch(/^public/);
    expect(byId.get("receiveWebhook")?.scope).toMatch(/^public/);
    expect(byId.get("reencryptSecrets")?.scope ?? byId.get("reencryptAllSecrets")?.scope ?? "superuser key only").toContain(
      "superuser key only",
    );
    expect(
      rows.every((r) => !r.scope.includes("?")),
      "every operation declares a scope or is public",
    ).toBe(true);
  });

  it("reports a row that is missing, changed or no longer an operation", () => {
    const sample = [
      { id: "a", method: "GET", path: "/a", scope: "`automations:read`", trigger: false },
      { id: "b", method: "POST", path: "/b", scope: "`automations:trigger`", trigger: true },
    ];
    const md = [
      "| Operation | Method and path | Scope | Counts as a trigger |",
      "| --- | --- | --- | --- |",
      "| `a` | `GET /a` | `automations:read` |  |",
      "| `c` | `GET /c` | `automations:read` |  |",
    ].join("\n");
    expect(scopeDrift(md, sample)).toEqual([
      "missing or changed: |`b`|`POST /b`|`automations:trigger`|yes|",
      "no longer an operation: |`c`|`GET /c`|`automations:read`||",
    ]);
  });
});
