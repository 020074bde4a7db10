import { env } from "cloudflare:test";
import { it } from "vitest";
import { call } from "../helpers";
it("dump", async () => {
  for (const q of ["SELECT total_changes() AS t", "PRAGMA data_version", "SELECT changes() AS c"]) {
    try { console.log(q, JSON.stringify((await env.DB.prepare(q).all()).results)); } catch (e) { console.log(q, "ERR", String(e)); }
  }
  await call("POST", "/v1/api-keys", { body: { name: "x", scopes: ["admin"] } });
  for (const q of ["SELECT total_changes() AS t", "PRAGMA data_version"]) {
    try { console.log(q, JSON.stringify((await env.DB.prepare(q).all()).results)); } catch (e) { console.log(q, "ERR", String(e)); }
  }
  const t0 = Date.now();
  for (let i = 0; i < 100; i++) await call("GET", "/v1/automation/flows/nope");
  console.log("100 GETs ms", Date.now() - t0);
});
