import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import { SINK, createFlow } from "../support/engine";
import { BULK_PATH, createJob, seedRecords, uniqueSchema } from "./support";

const post = (body: unknown, org = "org-a") => call("POST", BULK_PATH, { org, body });

/** Counts the org's bulk jobs, to show a refused request stored nothing. */
const jobCount = async () =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM bulk_jobs WHERE org_id = 'org-a'`).first<{ n: number }>())!.n;

function expectField(res: { status: number; body: any }, status: number, path: string, code?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  if (code) expect(res.body.error.code).toBe(code);
  expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
}

describe("bulk jobs: bad input is a clear 4xx and stores nothing", () => {
  it("flow: unknown, another org's, disabled", async () => {
    const schema = uniqueSchema("v-flow");
    await seedRecords(schema, 2);
    const flow = await createFlow({ flow_name: "v", actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/v` } }] });
    const other = await createFlow({ flow_name: "v-b", actions: [] }, "org-b");
    const q = `_schema:${schema}`;
    const before = await jobCount();
    expectField(await post({ flow_id: "no-such-flow", entities_query: q }), 404, "flow_id", "NOT_FOUND");
    expectField(await post({ flow_id: other.id, entities_query: q }), 404, "flow_id", "NOT_FOUND");
    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`, { body: {} })).status).toBe(200);
    expectField(await post({ flow_id: flow.id, entities_query: q }), 409, "flow_id", "FLOW_DISABLED");
    expect(await jobCount()).toBe(before);
  });

  it("selection: none, two at once, empty, oversized, matching nothing", async () => {
    const schema = uniqueSchema("v-sel");
    await seedRecords(schema, 2);
    const flow = await createFlow({ flow_name: "v-sel", actions: [] });
    const ref = { entity_id: "x", entity_schema: schema };
    const before = await jobCount();
    const none = await post({ flow_id: flow.id });
    expect(none.status).toBe(400);
    expect(none.body.error.details[0].message).toMatch(/exactly one of entities_refs, entities_query, entities_filter/);
    expectField(await post({ flow_id: flow.id, entities_refs: [ref], entities_query: "*" }), 400, "entities_query");
    expectField(await post({ flow_id: flow.id, entities_refs: [] }), 400, "entities_refs");
    const many = Array.from({ length: LIMITS.MAX_BULK_ENTITY_REFS + 1 }, (_, i) => ({
      entity_id: `e${i}`,
      entity_schema: schema,
    }));
    const over = await post({ flow_id: flow.id, entities_refs: many });
    expectField(over, 400, "entities_refs");
    expect(over.body.error.details[0].message).toMatch(/At most 1000 refs/);
    expectField(await post({ flow_id: flow.id, entities_query: "" }), 400, "entities_query");
    expectField(
      await post({ flow_id: flow.id, entities_query: `_schema:${schema}-none` }),
      400,
      "entities_query",
      "EMPTY_SELECTION",
    );
    expectField(
      await post({ flow_id: flow.id, entities_filter: [{ term: { _schema: `${schema}-none` } }] }),
      400,
      "entities_filter",
      "EMPTY_SELECTION",
    );
    expect(await jobCount()).toBe(before);
  });

  it(`a query or filter over more than ${LIMITS.MAX_BULK_RECORDS_PER_JOB} records is refused`, { timeout: 60_000 }, async () => {
    const schema = uniqueSchema("v-big");
    await seedRecords(schema, LIMITS.MAX_BULK_RECORDS_PER_JOB + 1, () => ({}));
    const flow = await createFlow({ flow_name: "v-big", actions: [] });
    const res = await post({ flow_id: flow.id, entities_query: `_schema:${schema}` });
    expectField(res, 400, "entities_query", "SELECTION_TOO_LARGE");
    expectField(await post({ flow_id: flow.id, entities_filter: [{ term: { _schema: schema } }] }), 400, "entities_filter");
    // Exactly at the limit is fine.
    await env.DB.prepare(`DELETE FROM records WHERE schema = ? AND id = ?`).bind(schema, `${schema}-00000`).run();
    expect((await post({ flow_id: flow.id, entities_query: `_schema:${schema}` })).status).toBe(202);
  });

  it("an invalid query or filter names the field", async () => {
    const flow = await createFlow({ flow_name: "v-q", actions: [] });
    const badQuery = await post({ flow_id: flow.id, entities_query: "status:" });
    expectField(badQuery, 400, "entities_query", "INVALID_QUERY");
    expect(badQuery.body.error.details[0].location).toBe("json");
    expectField(await post({ flow_id: flow.id, entities_query: "_secret:x" }), 400, "entities_query", "INVALID_QUERY");
    expectField(await post({ flow_id: flow.id, entities_filter: [{ nope: {} }] }), 400, "entities_filter.0");
    expectField(await post({ flow_id: flow.id, entities_filter: [{ term: { a: 1, b: 2 } }] }), 400, "entities_filter.0.term");
    expectField(
      await post({ flow_id: flow.id, entities_filter: [{ term: { _bogus: 1 } }] }),
      400,
      "entities_filter.0.term._bogus",
    );
    expectField(await post({ flow_id: flow.id, entities_filter: [{ range: { n: {} } }] }), 400, "entities_filter.0.range.n");
    expectField(await post({ flow_id: flow.id, entities_filter: [] }), 400, "entities_filter");
    expectField(await post({ flow_id: flow.id, entities_filter: "status:active" }), 400, "entities_filter");
    const tooComplex = Array.from({ length: 45 }, (_, i) => ({ range: { [`f${i}`]: { gt: 1, lt: 9 } } }));
    expectField(await post({ flow_id: flow.id, entities_filter: tooComplex }), 400, "entities_filter", "QUERY_TOO_COMPLEX");
  });

  it("malformed bodies: wrong types, unknown keys, bad refs and context, not JSON", async () => {
    const schema = uniqueSchema("v-body");
    await seedRecords(schema, 1);
    const flow = await createFlow({ flow_name: "v-body", actions: [] });
    const q = `_schema:${schema}`;
    expectField(await post({ flow_id: 42, entities_query: q }), 400, "flow_id", "VALIDATION_ERROR");
    expectField(await post({ flow_id: flow.id, entities_query: q, extra: 1 }), 400, "", "VALIDATION_ERROR");
    expectField(await post({ flow_id: flow.id, entities_refs: [{ entity_id: "x" }] }), 400, "entities_refs.0.entity_schema");
    expectField(
      await post({ flow_id: flow.id, entities_refs: [{ entity_id: "x", entity_schema: "Bad Schema" }] }),
      400,
      "entities_refs.0.entity_schema",
    );
    expectField(await post({ flow_id: flow.id, entities_query: q, trigger_context: { n: 1 } }), 400, "trigger_context.n");
    const raw = await call("POST", BULK_PATH, { rawBody: "{not json", headers: { "content-type": "application/json" } });
    expect(raw.status).toBe(400);
    const text = await call("POST", BULK_PATH, { rawBody: "flow_id=x", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
  });

  it("PATCH: a bad action, a missing token, a body that is not an object", async () => {
    const schema = uniqueSchema("v-patch");
    await seedRecords(schema, 1);
    const flow = await createFlow({ flow_name: "v-patch", actions: [] });
    const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
    const path = `${BULK_PATH}/${job.job_id}`;
    expectField(await call("PATCH", path, { body: { action: "PAUSE", task_token: token } }), 400, "action");
    expectField(await call("PATCH", path, { body: { action: "APPROVE" } }), 400, "task_token");
    expect((await call("PATCH", path, { body: [] })).status).toBe(400);
    expect((await call("PUT", path, { body: { action: "APPROVE", task_token: token } })).status).toBe(405);
    const row = await env.DB.prepare(`SELECT status FROM bulk_jobs WHERE id = ?`).bind(job.job_id).first<{ status: string }>();
    expect(row!.status).toBe("approval");
  });
});
