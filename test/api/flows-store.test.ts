import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { prepareFlowWrite } from "../../src/services/flow-write";
import { AutomationFlowInputSchema } from "../../src/schemas/flow";
import { listFlowSecrets } from "../../src/store/flow-secrets";
import { getFlow, replaceFlow } from "../../src/store/flows";
import { WEBHOOK_SECRET, createFlow, freshOrg } from "./flows-fixtures";

describe("flows store: concurrent updates", () => {
  it("refuses a replace against a stale version and leaves the flow, its index and its secrets as they were", async () => {
    const org = freshOrg();
    const flow = await createFlow(
      {
        flow_name: "v1",
        triggers: [{ id: "hook", type: "webhook", configuration: { path: "p", secret: WEBHOOK_SECRET } }],
        actions: [],
      },
      org,
    );
    const stored = await getFlow(env.DB, org, flow.id);
    const write = await prepareFlowWrite({
      env,
      orgId: org,
      flowId: flow.id,
      input: AutomationFlowInputSchema.parse({ flow_name: "v2", triggers: [{ id: "other", type: "manual" }], actions: [] }),
      existing: stored,
      existingSecrets: await listFlowSecrets(env.DB, org, flow.id),
      at: new Date().toISOString(),
      actor: "tester",
      blame: "tester",
    });

    expect(await replaceFlow(env.DB, write, stored!.version + 1)).toBe("conflict");
    expect(await getFlow(env.DB, org, flow.id)).toEqual(stored);
    const index = await env.DB.prepare("SELECT trigger_id FROM flow_triggers WHERE flow_id = ?").bind(flow.id).all();
    expect(index.results).toEqual([{ trigger_id: "hook" }]);
    expect((await listFlowSecrets(env.DB, org, flow.id)).map((s) => s.owner)).toEqual(["hook"]);

    expect(await replaceFlow(env.DB, write, stored!.version)).toBe("ok");
    const after = await getFlow(env.DB, org, flow.id);
    expect(after).toMatchObject({ flow_name: "v2", version: 2, last_updated_by: "tester" });
    const index2 = await env.DB.prepare("SELECT trigger_id FROM flow_triggers WHERE flow_id = ?").bind(flow.id).all();
    expect(index2.results).toEqual([{ trigger_id: "other" }]);
    expect(await listFlowSecrets(env.DB, org, flow.id)).toEqual([]);
  });
});
