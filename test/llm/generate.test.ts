import { beforeEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import { call } from "../helpers";
import { keyWith, llmConnection, sinkRequests } from "./support";

/** POST /v1/llm/workflows:generate: propose, validate, repair in a bounded loop, save disabled or refuse with 422. */

beforeEach(async () => {
  await env.DB.exec("DELETE FROM connections; DELETE FROM flows;");
});

const generate = (body: Record<string, unknown>, org = "org-a") => call("POST", "/v1/llm/workflows:generate", { org, body });
const flowCount = async (org = "org-a") =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM flows WHERE org_id = ?").bind(org).first<{ n: number }>())?.n ?? 0;

describe("workflow generation", () => {
  it("saves a valid proposal disabled, under the requested name, with the catalog in the instructions", async () => {
    const conn = await llmConnection("gen-valid");
    const res = await generate({ description: "Every Monday, notify the team", name: "Weekly Revenue Sync" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: "disabled", attempts: 1, provider: "openai", model: "fake-model" });
    expect(res.body.flow).toMatchObject({ id: res.body.workflow_id, flow_name: "Weekly Revenue Sync", enabled: false });
    expect(res.body.flow.actions[0]).toMatchObject({ type: "send_notification", config: { title: "Weekly summary" } });
    const stored = await call("GET", `/v1/automation/flows/${res.body.workflow_id}`);
    expect(stored.status).toBe(200);
    expect(stored.body.enabled).toBe(false);
    const sent = JSON.parse((await sinkRequests(`${conn.path}/chat/completions`))[0].body);
    expect(sent.messages[0].content).toContain('platform "slack", action "post_message"');
    expect(sent.messages[1]).toEqual({ role: "user", content: "Every Monday, notify the team" });
  });

  it("sends the validation errors back and saves the repaired proposal (schema errors, then write-path errors)", async () => {
    const conn = await llmConnection("gen-repair");
    const res = await generate({ description: "notify on a webhook" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.attempts).toBe(3);
    const reqs = (await sinkRequests(`${conn.path}/chat/completions`)).map((r) => JSON.parse(r.body).messages);
    expect(reqs).toHaveLength(3);
    const firstRepair = reqs[1].at(-1).content as string;
    expect(firstRepair).toMatch(/^That flow is invalid/);
    expect(firstRepair).toMatch(/actions\.0/);
    expect(firstRepair).toMatch(/triggers/);
    expect(reqs[2].at(-1).content).toMatch(/triggers\.0\.configuration\.secret/);
    expect(await flowCount()).toBe(1);
  });

  it("refuses with 422 and the last errors when the proposal never becomes valid, saving nothing", async () => {
    const conn = await llmConnection("gen-never");
    const res = await generate({ description: "something impossible" });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("INVALID_PROPOSAL");
    expect(res.body.error.message).toMatch(/LLM_MAX_REPAIR_ATTEMPTS/);
    expect(res.body.error.details.map((d: any) => d.path)).toEqual(expect.arrayContaining(["triggers"]));
    expect(await sinkRequests(`${conn.path}/chat/completions`)).toHaveLength(4);
    expect(await flowCount()).toBe(0);
  });

  it("treats an answer without JSON (a refusal) as invalid", async () => {
    await llmConnection("gen-refuse");
    const res = await generate({ description: "x" });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].message).toMatch(/no JSON object/);
    expect(await flowCount()).toBe(0);
  });

  it("passes provider failures through (502/504) and saves nothing", async () => {
    await llmConnection("error500");
    expect((await generate({ description: "x" })).status).toBe(502);
    const slow = await llmConnection("slow", { config: { timeout_ms: 200 } });
    const res = await generate({ description: "x", provider: slow.id });
    expect(res.status).toBe(504);
    expect(await flowCount()).toBe(0);
  });

  it("refuses bad input, other orgs' providers and callers without automations:write (it saves a flow)", async () => {
    await llmConnection("gen-valid");
    for (const body of [
      {},
      { description: "" },
      { description: 3 },
      { description: "x", name: "" },
      { description: "x".repeat(2001) },
    ]) {
      expect((await generate(body)).status, JSON.stringify(body)).toBe(400);
    }
    const theirs = await llmConnection("gen-valid", { org: "org-b" });
    const other = await generate({ description: "x", provider: theirs.id });
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe("UNKNOWN_PROVIDER");
    const trigger = await keyWith(["automations:trigger", "automations:read"]);
    expect((await call("POST", "/v1/llm/workflows:generate", { token: trigger, body: { description: "x" } })).status).toBe(403);
    expect(await flowCount()).toBe(0);
    expect(await sinkRequests(theirs.path)).toHaveLength(0);
  });
});
