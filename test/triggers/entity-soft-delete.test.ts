import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { apiKey, call } from "../helpers";
import { createFlow, createRecord, recordEvents } from "../support/engine";

/**
 * Soft delete and restore of records (POST /v1/entities/{schema}/{id}/soft-delete and /restore): the record
 * stays stored, marked by _deleted_at/_deleted_by, and the write fires softDeleteEntity / restoreEntity
 * entity_operation triggers.
 */

async function deliver(bodies: unknown[]): Promise<void> {
  const batch = createMessageBatch<unknown>(
    "automation-events",
    bodies.map((body, i) => ({ id: `m-${i}-${Math.random()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await getQueueResult(batch, ctx);
}

/** Makes a call and runs the events consumer on whatever it queued. */
async function callAndDeliver(method: string, path: string, opts: Parameters<typeof call>[2] = {}) {
  const { sent, restore } = recordEvents();
  try {
    const res = await call(method, path, opts);
    await deliver(sent);
    return { ...res, sent };
  } finally {
    restore();
  }
}

const opFlow = (name: string, configuration: Record<string, unknown>) =>
  createFlow({ flow_name: name, triggers: [{ type: "entity_operation", configuration }], actions: [] });

async function count(flowId: string): Promise<number> {
  const res = await call("GET", `/v1/automation/executions?flow_id=${flowId}&size=100`);
  expect(res.status).toBe(200);
  return (res.body.results as unknown[]).length;
}

describe("soft delete and restore", () => {
  it("soft-deletes and restores a record, firing only the flows listening for that operation", async () => {
    const onSoft = await opFlow("soft", { schema: "ticket", operations: ["softDeleteEntity"] });
    const onRestore = await opFlow("restore", { schema: "ticket", operations: ["restoreEntity"] });
    const onDelete = await opFlow("delete", { schema: "ticket", operations: ["deleteEntity"] });
    const onUpdate = await opFlow("update", { schema: "ticket", operations: ["updateEntity"] });
    const coherenceDeleted = await createFlow({
      flow_name: "record.deleted",
      triggers: [{ type: "record.deleted", configuration: { module: "ticket" } }],
      actions: [],
    });
    const rec = await createRecord("ticket", { name: "T-1" });

    const soft = await callAndDeliver("POST", `/v1/entities/ticket/${rec._id}/soft-delete`);
    expect(soft.status, JSON.stringify(soft.body)).toBe(200);
    expect(soft.body).toMatchObject({ _id: rec._id, name: "T-1", _deleted_at: expect.any(String), _deleted_by: "superuser" });
    expect(soft.sent).toHaveLength(1);
    expect(soft.sent[0]).toMatchObject({ type: "entity_operation", operation: "softDeleteEntity", entity_id: rec._id });
    expect([await count(onSoft.id), await count(onRestore.id), await count(onDelete.id), await count(onUpdate.id)]).toEqual([
      1, 0, 0, 0,
    ]);
    expect(await count(coherenceDeleted.id)).toBe(0);
    // Still stored and readable, marked.
    const read = await call("GET", `/v1/entities/ticket/${rec._id}`);
    expect(read.status).toBe(200);
    expect(read.body._deleted_at).toBe(soft.body._deleted_at);
    // Left out of searches, and not changed until restored.
    const listed = await call("GET", `/v1/entities/ticket`);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(rec._id);
    const patched = await call("PATCH", `/v1/entities/ticket/${rec._id}`, { body: { name: "T-2" } });
    expect(patched.status).toBe(409);
    expect((await call("GET", `/v1/entities/ticket/${rec._id}`)).body.name).toBe("T-1");

    const restored = await callAndDeliver("POST", `/v1/entities/ticket/${rec._id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ _id: rec._id, name: "T-1" });
    expect(restored.body).not.toHaveProperty("_deleted_at");
    expect(restored.body).not.toHaveProperty("_deleted_by");
    expect(JSON.stringify((await call("GET", `/v1/entities/ticket`)).body)).toContain(rec._id);
    expect(restored.sent[0]).toMatchObject({ operation: "restoreEntity" });
    expect([await count(onSoft.id), await count(onRestore.id), await count(onDelete.id), await count(onUpdate.id)]).toEqual([
      1, 1, 0, 0,
    ]);
  });

  it("an entity_operation trigger without operations hears both; one on another schema hears neither", async () => {
    const all = await opFlow("all", { schema: "case" });
    const other = await opFlow("other", { schema: "contract" });
    const rec = await createRecord("case", { name: "C-1" });
    await callAndDeliver("POST", `/v1/entities/case/${rec._id}/soft-delete`);
    await callAndDeliver("POST", `/v1/entities/case/${rec._id}/restore`);
    expect(await count(all.id)).toBe(2);
    expect(await count(other.id)).toBe(0);
  });

  it("include_activities / exclude_activities filter record writes by their operation", async () => {
    const included = await opFlow("incl", { schema: "lot", include_activities: ["softDeleteEntity"] });
    const excluded = await opFlow("excl", { schema: "lot", exclude_activities: ["softDeleteEntity"] });
    const created = await callAndDeliver("POST", "/v1/entities/lot", { body: { name: "L-1" } });
    const id = (created.body as { _id: string })._id;
    await callAndDeliver("PATCH", `/v1/entities/lot/${id}`, { body: { name: "L-2" } });
    await callAndDeliver("POST", `/v1/entities/lot/${id}/soft-delete`);
    // The create and the update, not the soft delete / only the soft delete.
    expect(await count(excluded.id)).toBe(2);
    expect(await count(included.id)).toBe(1);
  });

  it("refuses a second soft delete, a restore of a live record, unknown and foreign records, and a missing scope", async () => {
    const rec = await createRecord("item", { name: "I-1" });
    const restoreLive = await callAndDeliver("POST", `/v1/entities/item/${rec._id}/restore`);
    expect(restoreLive.status).toBe(409);
    expect(restoreLive.sent).toHaveLength(0);
    expect((await callAndDeliver("POST", `/v1/entities/item/${rec._id}/soft-delete`)).status).toBe(200);
    const twice = await callAndDeliver("POST", `/v1/entities/item/${rec._id}/soft-delete`);
    expect(twice.status).toBe(409);
    expect(twice.sent).toHaveLength(0);
    expect((await call("POST", `/v1/entities/item/no-such-id/soft-delete`)).status).toBe(404);
    expect((await call("POST", `/v1/entities/other/${rec._id}/restore`)).status).toBe(404);
    expect((await call("POST", `/v1/entities/item/${rec._id}/restore`, { org: "org-b" })).status).toBe(404);
    expect((await call("POST", `/v1/entities/BAD!/${rec._id}/restore`)).status).toBe(400);
    const reader = await apiKey("org-a", ["automations:read"]);
    expect((await call("POST", `/v1/entities/item/${rec._id}/restore`, { token: reader })).status).toBe(403);
    // A client cannot forge or clear the markers through a PATCH.
    expect((await call("PATCH", `/v1/entities/item/${rec._id}`, { body: { _deleted_at: null } })).status).toBe(400);
  });
});
