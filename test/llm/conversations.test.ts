import { beforeEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import { call } from "../helpers";
import { keyWith, llmConnection, newConversation } from "./support";

/** Conversation CRUD (seed 002 chat): create, list, get, rename, delete, messages; scopes and other orgs' ids. */

beforeEach(async () => {
  await env.DB.exec("DELETE FROM conversation_messages; DELETE FROM conversations; DELETE FROM connections;");
});

describe("conversations", () => {
  it("creates, lists most recent first, gets, renames and deletes", async () => {
    const first = await call("POST", "/v1/conversations", { body: { title: "HubSpot Integration Project" } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ title: "HubSpot Integration Project", message_count: 0, provider: null });
    expect(first.body.org_id).toBeUndefined();
    const second = await newConversation("org-a", "Second");

    // Updating the first makes it the most recent.
    const renamed = await call("PATCH", `/v1/conversations/${first.body.id}`, { body: { title: "Campaign v2" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.title).toBe("Campaign v2");

    const list = await call("GET", "/v1/conversations");
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.results.map((c: any) => c.id)).toEqual([first.body.id, second]);
    const page = await call("GET", "/v1/conversations?size=1&from=1");
    expect(page.body.results.map((c: any) => c.id)).toEqual([second]);

    const got = await call("GET", `/v1/conversations/${second}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: second, title: "Second", messages: [] });

    expect((await call("DELETE", `/v1/conversations/${second}`)).status).toBe(204);
    expect((await call("GET", `/v1/conversations/${second}`)).status).toBe(404);
    expect((await call("DELETE", `/v1/conversations/${second}`)).status).toBe(404);
  });

  it("names an untitled conversation from its first message and deletes its messages with it", async () => {
    await llmConnection("chat");
    const id = await newConversation();
    expect((await call("GET", `/v1/conversations/${id}`)).body.title).toBeNull();
    const sent = await call("POST", `/v1/conversations/${id}/messages`, {
      body: { content: "Summarise the last five HubSpot deals for the weekly sales meeting on Monday morning please" },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const got = await call("GET", `/v1/conversations/${id}`);
    expect(got.body.title).toBe("Summarise the last five HubSpot deals for the weekly sales…");
    expect(got.body.message_count).toBe(2);
    expect(got.body.messages.map((m: any) => m.role)).toEqual(["user", "assistant"]);

    const messages = await call("GET", `/v1/conversations/${id}/messages?size=1&from=1`);
    expect(messages.status).toBe(200);
    expect(messages.body.total).toBe(2);
    expect(messages.body.results).toHaveLength(1);
    expect(messages.body.results[0]).toMatchObject({ role: "assistant", seq: 2, status: "completed" });

    expect((await call("DELETE", `/v1/conversations/${id}`)).status).toBe(204);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM conversation_messages WHERE conversation_id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it("refuses bad input with 400 and changes nothing", async () => {
    const id = await newConversation("org-a", "Keep");
    const cases: [string, string, unknown][] = [
      ["POST", "/v1/conversations", { title: 42 }],
      ["POST", "/v1/conversations", { title: "x".repeat(201) }],
      ["PATCH", `/v1/conversations/${id}`, {}],
      ["PATCH", `/v1/conversations/${id}`, { title: "" }],
      ["POST", `/v1/conversations/${id}/messages`, { content: "" }],
      ["POST", `/v1/conversations/${id}/messages`, { content: 5 }],
      ["POST", `/v1/conversations/${id}/messages`, { content: "x".repeat(32_001) }],
    ];
    for (const [method, path, body] of cases) {
      const res = await call(method, path, { body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    const malformed = await call("POST", "/v1/conversations", {
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect((await call("GET", "/v1/conversations?size=0")).status).toBe(400);
    const list = await call("GET", "/v1/conversations");
    expect(list.body.total).toBe(1);
    expect(list.body.results[0]).toMatchObject({ title: "Keep", message_count: 0 });
  });

  it("answers 404 for another organization's conversation on every operation", async () => {
    const theirs = await newConversation("org-b", "Private");
    const ops: [string, string, unknown?][] = [
      ["GET", `/v1/conversations/${theirs}`],
      ["PATCH", `/v1/conversations/${theirs}`, { title: "Mine now" }],
      ["DELETE", `/v1/conversations/${theirs}`],
      ["GET", `/v1/conversations/${theirs}/messages`],
      ["POST", `/v1/conversations/${theirs}/messages`, { content: "hi" }],
      ["POST", `/v1/conversations/${theirs}/messages:stream`, { content: "hi" }],
      ["GET", `/v1/conversations/${theirs}/tool-calls`],
      ["POST", `/v1/conversations/${theirs}/extract-workflow`, { workflow_name: "Steal" }],
    ];
    for (const [method, path, body] of ops) {
      const res = await call(method, path, { org: "org-a", body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await call("GET", "/v1/conversations", { org: "org-a" })).body.total).toBe(0);
    const still = await call("GET", `/v1/conversations/${theirs}`, { org: "org-b" });
    expect(still.body).toMatchObject({ title: "Private", message_count: 0 });
  });

  it("needs automations:read to read, automations:write to change and automations:trigger to send", async () => {
    // The keys' own conversation (conversations belong to whoever started them); a missing scope is refused first.
    const read = await keyWith(["automations:read"]);
    const write = await keyWith(["automations:write"]);
    const readWrite = await keyWith(["automations:read", "automations:write"]);
    const own = await call("POST", "/v1/conversations", { token: readWrite, body: {} });
    const id = own.body.id;
    expect((await call("GET", "/v1/conversations", { token: read })).status).toBe(200);
    expect((await call("GET", `/v1/conversations/${id}/messages`, { token: readWrite })).status).toBe(200);
    expect((await call("GET", "/v1/conversations", { token: write })).status).toBe(403);
    expect((await call("POST", "/v1/conversations", { token: read, body: {} })).status).toBe(403);
    expect((await call("PATCH", `/v1/conversations/${id}`, { token: read, body: { title: "x" } })).status).toBe(403);
    expect((await call("DELETE", `/v1/conversations/${id}`, { token: read })).status).toBe(403);
    expect((await call("POST", `/v1/conversations/${id}/messages`, { token: write, body: { content: "hi" } })).status).toBe(403);
    expect(
      (await call("POST", `/v1/conversations/${id}/messages:stream`, { token: write, body: { content: "hi" } })).status,
    ).toBe(403);
    expect(
      (await call("POST", `/v1/conversations/${id}/extract-workflow`, { token: read, body: { workflow_name: "x" } })).status,
    ).toBe(403);
    expect((await call("POST", "/v1/conversations", { token: write, body: {} })).status).toBe(201);
    expect((await call("GET", `/v1/conversations/${id}`)).body.message_count).toBe(0);
  });
});
