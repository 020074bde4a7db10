import { env } from "cloudflare:test";
import { it, expect } from "vitest";
import { call, apiKey } from "../helpers";
it("probe", async () => {
  console.log("bindings", typeof env.RL_API_KEY, typeof env.RL_AUTH_FAILURES);
  const r = await env.RL_AUTH_FAILURES!.limit({ key: "probe" });
  console.log("limit", JSON.stringify(r));
  const key = await apiKey("probe-org", ["automations:read"]);
  let t0 = Date.now();
  for (let i = 0; i < 100; i++) await call("GET", "/v1/automation/flows/nope", { token: key });
  console.log("100 key GETs ms", Date.now() - t0);
  t0 = Date.now();
  for (let i = 0; i < 100; i++) await call("GET", "/v1/automation/flows/nope", { token: "bad", headers: { "cf-connecting-ip": "1.2.3." + (i % 4) } });
  console.log("100 bad ms", Date.now() - t0);
  const statuses: number[] = [];
  for (let i = 0; i < 25; i++) statuses.push((await call("GET", "/v1/automation/flows/nope", { token: "bad", headers: { "cf-connecting-ip": "9.9.9.9" } })).status);
  console.log(statuses.join(","));
  expect(1).toBe(1);
});
