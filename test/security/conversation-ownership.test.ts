/**
 * Issue 24 item 10 (conversations): a conversation belongs to the user who started it. Another user of the same
 * organization, even with every other scope, does not see it (404 on every operation, left out of the list);
 * automations:admin (the org's admin, or the superuser) may read and act on any conversation of the org.
 */
import { describe, expect, it } from "vitest";
import { apiKey, call } from "../helpers";
import { jwtFor } from "../integrations/support";
import { llmConnection } from "../llm/support";

const ALL = "automations:read automations:write automations:trigger";

describe("conversations belong to the user who started them (item 10)", () => {
  it("another user of the org gets 404 on every operation and does not see it listed; admin does", async () => {
    const o = `conv-own-${crypto.randomUUID().slice(0, 8)}`;
    await llmConnection("chat", { org: o });
    const alice = await jwtFor("alice", o, ALL);
    const bob = await jwtFor("bob", o, ALL);
    const created = await call("POST", "/v1/conversations", { token: alice, body: { title: "alice's" } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await call("POST", `/v1/conversations/${id}/messages`, { token: alice, body: { content: "hi" } })).status).toBe(200);

    const base = `/v1/conversations/${id}`;
    const attempts: [string, string, unknown?][] = [
      ["GET", base],
      ["PATCH", base, { title: "bob's now" }],
      ["GET", `${base}/messages`],
      ["POST", `${base}/messages`, { content: "let me in" }],
      ["POST", `${base}/messages:stream`, { content: "let me in" }],
      ["GET", `${base}/tool-calls`],
      ["POST", `${base}/extract-workflow`, { workflow_name: "stolen" }],
      ["POST", `${base}/tool-calls/call_x/approve`],
      ["POST", `${base}/tool-calls/call_x/reject`],
      ["DELETE", base],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { token: bob, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(404);
    }
    const bobsList = await call("GET", "/v1/conversations", { token: bob });
    expect(bobsList.body.results.map((c: any) => c.id)).not.toContain(id);
    expect(bobsList.body.total).toBe(0);

    const alicesList = await call("GET", "/v1/conversations", { token: alice });
    expect(alicesList.body.results.map((c: any) => c.id)).toContain(id);
    const admin = await apiKey(o, ["admin"]);
    expect((await call("GET", base, { token: admin })).status).toBe(200);
    expect((await call("GET", "/v1/conversations", { token: admin })).body.results.map((c: any) => c.id)).toContain(id);
    expect((await call("GET", base, { org: o })).status).toBe(200);
    // Still Alice's, unchanged.
    const mine = await call("GET", base, { token: alice });
    expect(mine.body).toMatchObject({ title: "alice's", message_count: 2 });
  });
});
