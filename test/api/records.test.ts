import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { createRecord, deleteRecord, updateRecord } from "../../src/services/records";
import { call } from "../helpers";

/** Each test works in its own org so searches and totals see only its records. */
const newOrg = () => `rec-${crypto.randomUUID().slice(0, 8)}`;

async function create(org: string, schema: string, body: unknown) {
  const res = await call("POST", `/v1/entities/${schema}`, { org, body });
  expect(res.status).toBe(201);
  return res.body;
}

describe("records API: create, get, patch, delete", () => {
  it("creates a record and returns its snapshot", async () => {
    const org = newOrg();
    const res = await call("POST", "/v1/entities/contact", {
      org,
      body: { name: "Jane Doe", status: "active", _tags: ["vip", "vip", "lead"], address: { city: "Berlin" }, gone: null },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      _org: org,
      _schema: "contact",
      _title: "Jane Doe",
      _tags: ["vip", "lead"],
      name: "Jane Doe",
      status: "active",
      address: { city: "Berlin" },
    });
    expect(res.body._id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body._created_at).toBe(res.body._updated_at);
    expect(res.body).not.toHaveProperty("gone");

    const got = await call("GET", `/v1/entities/contact/${res.body._id}`, { org });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it("uses an explicit _title, and an empty title when nothing names the record", async () => {
    const org = newOrg();
    expect((await create(org, "deal", { _title: "Deal #1", name: "x" }))._title).toBe("Deal #1");
    const untitled = await create(org, "deal", { amount: 5 });
    expect(untitled._title).toBe("");
    expect(untitled._tags).toEqual([]);
    expect((await create(org, "deal", { email: "a@b.c" }))._title).toBe("a@b.c");
  });

  it("answers 404 for an unknown id and for a record fetched under another schema", async () => {
    const org = newOrg();
    const rec = await create(org, "contact", { name: "A" });
    expect((await call("GET", `/v1/entities/contact/${crypto.randomUUID()}`, { org })).status).toBe(404);
    expect((await call("GET", `/v1/entities/deal/${rec._id}`, { org })).status).toBe(404);
    expect((await call("PATCH", `/v1/entities/deal/${rec._id}`, { org, body: { a: 1 } })).status).toBe(404);
    expect((await call("DELETE", `/v1/entities/deal/${rec._id}`, { org })).status).toBe(404);
    const still = await call("GET", `/v1/entities/contact/${rec._id}`, { org });
    expect(still.body).toEqual(rec);
  });

  it("PATCH merges top-level attributes, null removes one, _tags replace, and the derived title follows", async () => {
    const org = newOrg();
    const rec = await create(org, "contact", { name: "Jane", phone: "1", address: { city: "Berlin", zip: "1" }, _tags: ["a"] });
    const res = await call("PATCH", `/v1/entities/contact/${rec._id}`, {
      org,
      body: { name: "Janet", phone: null, address: { city: "Hamburg" }, status: "new", _tags: ["b"] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ _title: "Janet", name: "Janet", status: "new", address: { city: "Hamburg" }, _tags: ["b"] });
    expect(res.body).not.toHaveProperty("phone");
    expect(res.body._created_at).toBe(rec._created_at);
    expect(res.body._updated_at >= rec._updated_at).toBe(true);
    expect((await call("GET", `/v1/entities/contact/${rec._id}`, { org })).body).toEqual(res.body);

    const cleared = await call("PATCH", `/v1/entities/contact/${rec._id}`, { org, body: { _tags: null } });
    expect(cleared.body._tags).toEqual([]);
  });

  it("keeps an explicit title when attributes change, and `_title: null` goes back to the derived one", async () => {
    const org = newOrg();
    const rec = await create(org, "contact", { name: "Jane", _title: "Custom" });
    const renamed = await call("PATCH", `/v1/entities/contact/${rec._id}`, { org, body: { name: "Janet" } });
    expect(renamed.body._title).toBe("Custom");
    const reset = await call("PATCH", `/v1/entities/contact/${rec._id}`, { org, body: { _title: null } });
    expect(reset.body._title).toBe("Janet");
  });

  it("an empty or no-op PATCH changes nothing, not even _updated_at", async () => {
    const org = newOrg();
    const rec = await create(org, "contact", { name: "Jane", n: [1, { a: 2 }] });
    for (const body of [{}, { name: "Jane", n: [1, { a: 2 }] }, { missing: null }]) {
      const res = await call("PATCH", `/v1/entities/contact/${rec._id}`, { org, body });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(rec);
    }
  });

  it("DELETE returns the deleted snapshot; the record is then gone", async () => {
    const org = newOrg();
    const rec = await create(org, "contact", { name: "Jane" });
    const del = await call("DELETE", `/v1/entities/contact/${rec._id}`, { org });
    expect(del.status).toBe(200);
    expect(del.body).toEqual(rec);
    expect((await call("GET", `/v1/entities/contact/${rec._id}`, { org })).status).toBe(404);
    expect((await call("DELETE", `/v1/entities/contact/${rec._id}`, { org })).status).toBe(404);
    expect((await call("PATCH", `/v1/entities/contact/${rec._id}`, { org, body: { a: 1 } })).status).toBe(404);
  });

  it("concurrent PATCHes of different attributes all land (optimistic retry, no lost update)", async () => {
    const org = newOrg();
    const rec = await create(org, "contact", { name: "Jane" });
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => call("PATCH", `/v1/entities/contact/${rec._id}`, { org, body: { [`f${i}`]: i } })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const got = await call("GET", `/v1/entities/contact/${rec._id}`, { org });
    expect(got.body).toMatchObject({ name: "Jane", f0: 0, f1: 1, f2: 2, f3: 3 });
  });
});

describe("records API: search", () => {
  it("searches one schema with q, pages with size/from, and reports the total", async () => {
    const org = newOrg();
    for (let i = 0; i < 5; i++) await create(org, "contact", { name: `C${i}`, n: i, status: i % 2 ? "odd" : "even" });
    await create(org, "deal", { name: "D", status: "even" });

    const all = await call("GET", "/v1/entities/contact", { org });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(5);
    expect(all.body.results).toHaveLength(5);

    const even = await call("GET", `/v1/entities/contact?q=${encodeURIComponent("status:even AND n:>=2")}`, { org });
    expect(even.body.total).toBe(2);
    expect(even.body.results.map((r: { name: string }) => r.name).sort()).toEqual(["C2", "C4"]);

    const p1 = await call("GET", "/v1/entities/contact?size=2&from=0", { org });
    const p2 = await call("GET", "/v1/entities/contact?size=2&from=2", { org });
    const p3 = await call("GET", "/v1/entities/contact?size=2&from=4", { org });
    expect(p1.body.total).toBe(5);
    const names = [...p1.body.results, ...p2.body.results, ...p3.body.results].map((r: { name: string }) => r.name);
    expect(new Set(names).size).toBe(5);
    expect(p3.body.results).toHaveLength(1);

    const none = await call("GET", `/v1/entities/contact?q=${encodeURIComponent('"no such thing"')}`, { org });
    expect(none.body).toEqual({ total: 0, results: [] });
  });

  it("never returns another org's records", async () => {
    const org = newOrg();
    const other = newOrg();
    await create(other, "contact", { name: "Secret" });
    const res = await call("GET", "/v1/entities/contact?q=Secret", { org });
    expect(res.body).toEqual({ total: 0, results: [] });
  });

  it("answers 400 with the position for a bad q, and for bad paging", async () => {
    const bad = await call("GET", `/v1/entities/contact?q=${encodeURIComponent("status:active AND")}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_QUERY");
    expect(bad.body.error.message).toContain("at position 18");
    expect(bad.body.error.details[0]).toMatchObject({ path: "q", location: "query", code: "position:18" });

    const badField = await call("GET", `/v1/entities/contact?q=${encodeURIComponent("_secret:1")}`);
    expect(badField.status).toBe(400);
    expect(badField.body.error.message).toMatch(/Unknown system field/);

    const tooLong = await call("GET", `/v1/entities/contact?q=${"a".repeat(LIMITS.MAX_QUERY_LENGTH + 1)}`);
    expect(tooLong.status).toBe(400);

    for (const qs of ["size=0", "size=101", "size=abc", "from=-1"]) {
      const res = await call("GET", `/v1/entities/contact?${qs}`);
      expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
    }
  });
});

describe("records API: bad input", () => {
  const path = "/v1/entities/contact";

  it("refuses malformed JSON, non-object bodies and non-JSON content types", async () => {
    const malformed = await call("POST", path, { rawBody: '{"name": ', headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    for (const body of [[1, 2], "text", 42, null]) {
      const res = await call("POST", path, { body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const form = await call("POST", path, {
      rawBody: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
  });

  it("refuses reserved and invalid attribute names and wrongly typed _title/_tags, naming each field", async () => {
    const res = await call("POST", path, {
      body: { _id: "x", _created_at: "y", "a.b": 1, "has space": 2, _title: 5, _tags: "vip", ok: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    const fields = res.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(fields).toEqual(["_created_at", "_id", "_tags", "_title", "a.b", "has space"]);

    const patch = await call("PATCH", `${path}/${crypto.randomUUID()}`, { body: { _org: "other" } });
    expect(patch.status).toBe(400);
    const tags = await call("POST", path, { body: { _tags: ["ok", ""] } });
    expect(tags.status).toBe(400);
    const many = await call("POST", path, {
      body: { _tags: Array.from({ length: LIMITS.MAX_RECORD_TAGS + 1 }, (_, i) => `t${i}`) },
    });
    expect(many.status).toBe(400);
  });

  it("refuses values nested too deeply", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < LIMITS.MAX_RECORD_DEPTH + 1; i++) deep = [deep];
    const res = await call("POST", path, { body: { deep } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe("deep");
  });

  it("answers 413 for a record above the record limit and a body above the request limit", async () => {
    const big = await call("POST", path, { body: { blob: "x".repeat(LIMITS.MAX_RECORD_BYTES) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    const huge = await call("POST", path, { body: { blob: "x".repeat(LIMITS.MAX_REQUEST_BODY_BYTES) } });
    expect(huge.status).toBe(413);

    const rec = await create("org-a", "contact", { name: "Grows" });
    const grow = await call("PATCH", `${path}/${rec._id}`, { body: { blob: "x".repeat(LIMITS.MAX_RECORD_BYTES) } });
    expect(grow.status).toBe(413);
    expect((await call("GET", `${path}/${rec._id}`)).body).toEqual(rec);
  });

  it("refuses schema names that are not slugs", async () => {
    for (const schema of ["Contact", "con tact", "a".repeat(65), "x%27%3B"]) {
      const res = await call("POST", `/v1/entities/${schema}`, { body: { a: 1 } });
      expect({ schema, status: res.status }).toEqual({ schema, status: 400 });
    }
    expect((await call("GET", "/v1/entities/BAD/some-id")).status).toBe(400);
  });

  it("answers 405 for a wrong method", async () => {
    expect((await call("PUT", `${path}/some-id`, { body: {} })).status).toBe(405);
    expect((await call("DELETE", path)).status).toBe(405);
  });
});

describe("records service: the change each write reports", () => {
  it("create → createEntity with everything added", async () => {
    const org = newOrg();
    const { record, change } = await createRecord(env.DB, org, "user:u1", "contact", { name: "Jane", _tags: ["a"] });
    expect(change).toMatchObject({
      operation: "createEntity",
      org_id: org,
      schema: "contact",
      entity_id: record!._id,
      actor: "user:u1",
      before: null,
      after: record,
      diff: { added: { name: "Jane", _title: "Jane", _tags: ["a"] }, updated: {}, deleted: {} },
      previous: {},
    });
    expect(change.at).toBe(record!._created_at);
  });

  it("update → updateEntity with the diff and previous values; a no-op gives an empty diff", async () => {
    const org = newOrg();
    const { record } = await createRecord(env.DB, org, "a", "contact", { name: "Jane", phone: "1", n: 1 });
    const { record: after, change } = await updateRecord(env.DB, org, "user:u2", "contact", record!._id, {
      phone: null,
      n: 2,
      email: "j@x.io",
    });
    expect(change).toMatchObject({
      operation: "updateEntity",
      actor: "user:u2",
      before: record,
      after,
      diff: { added: { email: "j@x.io" }, updated: { n: 2 }, deleted: { phone: "1" } },
      previous: { n: 1, phone: "1" },
    });
    const noop = await updateRecord(env.DB, org, "a", "contact", record!._id, { n: 2 });
    expect(noop.change.diff).toEqual({ added: {}, updated: {}, deleted: {} });
    expect(noop.change.before).toEqual(noop.change.after);
    expect(noop.record).toEqual(after);
  });

  it("delete → deleteEntity with everything deleted; unknown ids and bad input are AppErrors", async () => {
    const org = newOrg();
    const { record } = await createRecord(env.DB, org, "a", "contact", { name: "Jane" });
    const { record: gone, change } = await deleteRecord(env.DB, org, "user:u3", "contact", record!._id);
    expect(gone).toBeNull();
    expect(change).toMatchObject({
      operation: "deleteEntity",
      before: record,
      after: null,
      diff: { added: {}, updated: {}, deleted: { name: "Jane", _title: "Jane", _tags: [] } },
    });
    await expect(deleteRecord(env.DB, org, "a", "contact", record!._id)).rejects.toMatchObject({ status: 404 });
    await expect(updateRecord(env.DB, org, "a", "contact", record!._id, {})).rejects.toMatchObject({ status: 404 });
    await expect(createRecord(env.DB, org, "a", "Bad Schema", {})).rejects.toMatchObject({ status: 400 });
    await expect(createRecord(env.DB, org, "a", "contact", { _x: 1 })).rejects.toMatchObject({ status: 400 });
    await expect(createRecord(env.DB, org, "a", "contact", "nope")).rejects.toMatchObject({ status: 400 });
  });
});

describe("records API in the OpenAPI document", () => {
  it("documents the routes with their scopes", async () => {
    const doc = await call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    const paths = doc.body.paths;
    expect(Object.keys(paths["/v1/entities/{schema}"]).sort()).toEqual(["get", "post"]);
    expect(Object.keys(paths["/v1/entities/{schema}/{id}"]).sort()).toEqual(["delete", "get", "patch"]);
    expect(paths["/v1/entities/{schema}"].post["x-required-scope"]).toBe("automations:write");
    expect(paths["/v1/entities/{schema}"].get["x-required-scope"]).toBe("automations:read");
    expect(doc.body.components.schemas.EntityItemSnapshot).toBeDefined();
  });
});
