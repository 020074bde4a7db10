import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { ADMIN_KEY, BASE, call } from "../helpers";
import { createRecord } from "../support/engine";
import { fetchRaw, freshOrg, sha256Hex, upload } from "./support";

describe("files", () => {
  it("stores a raw upload in R2 and serves its metadata and bytes", async () => {
    const org = freshOrg();
    const text = "Zählerstand: 4711 kWh\n";
    const file = await upload(org, text, { filename: "reading.txt", type: "text/plain; charset=utf-8" });
    const bytes = new TextEncoder().encode(text);
    expect(file).toMatchObject({
      filename: "reading.txt",
      content_type: "text/plain; charset=utf-8",
      size: bytes.length,
      sha256: await sha256Hex(bytes),
      entity_id: null,
      source: "upload",
      tags: [],
    });
    expect(file.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof file.created_at).toBe("string");

    const stored = await env.FILES.get(`${org}/${file.id}`);
    expect(await stored!.text()).toBe(text);

    const info = await call("GET", `/v1/files/${file.id}/info`, { org });
    expect(info.status).toBe(200);
    expect(info.body).toEqual(file);

    const dl = await fetchRaw(org, `/v1/files/${file.id}`);
    expect(dl.status).toBe(200);
    expect(new TextDecoder().decode(dl.bytes)).toBe(text);
    expect(dl.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(dl.headers.get("content-disposition")).toBe("attachment; filename*=UTF-8''reading.txt");
    expect(dl.headers.get("x-content-type-options")).toBe("nosniff");

    const list = await call("GET", "/v1/files", { org });
    expect(list.body).toEqual({ total: 1, results: [file] });
  });

  it("takes multipart uploads with the part's name and type", async () => {
    const org = freshOrg();
    const form = new FormData();
    form.append("file", new File([new Uint8Array([0x25, 0x50, 0x44, 0x46])], "scan.pdf", { type: "application/pdf" }));
    const res = await SELF.fetch(`${BASE}/v1/files?tags=contract,signed`, {
      method: "POST",
      headers: { "x-key": ADMIN_KEY, "x-org-id": org },
      body: form,
    });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ filename: "scan.pdf", content_type: "application/pdf", size: 4, tags: ["contract", "signed"] });

    const noPart = new FormData();
    noPart.append("other", "x");
    const bad = await SELF.fetch(`${BASE}/v1/files`, {
      method: "POST",
      headers: { "x-key": ADMIN_KEY, "x-org-id": org },
      body: noPart,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.details[0].path).toBe("file");
  });

  it("attaches files to a record and lists them per record", async () => {
    const org = freshOrg();
    const rec = await createRecord("contract", { name: "C-1" }, org);
    const a = await upload(org, "a", { filename: "a.txt", query: { entity_schema: "contract", entity_id: rec._id } });
    await upload(org, "b", { filename: "b.txt" });
    expect(a).toMatchObject({ entity_schema: "contract", entity_id: rec._id });
    const list = await call("GET", `/v1/entities/contract/${rec._id}/files`, { org });
    expect(list.status).toBe(200);
    expect(list.body.results.map((f: any) => f.filename)).toEqual(["a.txt"]);

    const unknown = await call("POST", `/v1/files?entity_schema=contract&entity_id=nope`, {
      org,
      rawBody: "x",
      headers: { "content-type": "text/plain" },
    });
    expect(unknown.status).toBe(404);
    const half = await call("POST", `/v1/files?entity_id=${rec._id}`, {
      org,
      rawBody: "x",
      headers: { "content-type": "text/plain" },
    });
    expect(half.status).toBe(400);
    expect(half.body.error.details[0].path).toBe("entity_id");
    expect((await call("GET", `/v1/entities/contract/nope/files`, { org })).status).toBe(404);
  });

  it("refuses files over the size limit with 413, and empty uploads with 400, storing nothing", async () => {
    const org = freshOrg();
    const res = await call("POST", "/v1/files?filename=big.bin", {
      org,
      rawBody: new Uint8Array(LIMITS.MAX_FILE_BYTES + 1),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(res.status).toBe(413);
    const empty = await call("POST", "/v1/files?filename=empty.txt", {
      org,
      rawBody: "",
      headers: { "content-type": "text/plain" },
    });
    expect(empty.status).toBe(400);
    expect((await call("GET", "/v1/files", { org })).body.total).toBe(0);
    expect((await env.FILES.list({ prefix: `${org}/` })).objects).toHaveLength(0);
  });

  it("deletes a file (row and bytes); another organization's ids are 404", async () => {
    const org = freshOrg();
    const other = freshOrg();
    const rec = await createRecord("contract", { name: "C-2" }, org);
    const file = await upload(org, "secret", { filename: "s.txt", query: { entity_schema: "contract", entity_id: rec._id } });
    for (const path of [`/v1/files/${file.id}`, `/v1/files/${file.id}/info`, `/v1/entities/contract/${rec._id}/files`]) {
      const res = await call("GET", path, { org: other });
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
    }
    expect((await call("DELETE", `/v1/files/${file.id}`, { org: other })).status).toBe(404);
    expect((await call("GET", "/v1/files", { org: other })).body.total).toBe(0);

    const del = await call("DELETE", `/v1/files/${file.id}`, { org });
    expect(del).toMatchObject({ status: 200, body: { id: file.id, deleted: true } });
    expect(await env.FILES.get(`${org}/${file.id}`)).toBeNull();
    expect((await call("GET", `/v1/files/${file.id}/info`, { org })).status).toBe(404);
    expect((await call("DELETE", `/v1/files/${file.id}`, { org })).status).toBe(404);
  });

  it("needs automations:read to read and automations:write to upload", async () => {
    const org = freshOrg();
    const res = await call("POST", "/v1/api-keys", { org, body: { name: "ro", scopes: ["automations:read"] } });
    const token = res.body.key as string;
    const up = await call("POST", "/v1/files", { token, rawBody: "x", headers: { "content-type": "text/plain" } });
    expect(up.status).toBe(403);
    expect((await call("GET", "/v1/files", { token })).status).toBe(200);
  });
});
