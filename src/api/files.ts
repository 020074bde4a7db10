import { z } from "@hono/zod-openapi";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import { FileListSchema, FileSchema, UploadQuery, binaryBody, multipartBody } from "../schemas/files";
import { SchemaParam } from "../schemas/records";
import { openFile, removeFile, requireFile, requireRecordFor, storeFile, toFileView } from "../services/files";
import { listFileRows } from "../store/files";
import { Deleted, Paging, idParams } from "./platform-http";
import { createRouter, errorResponses, jsonResponse, scopedRoute } from "./router";

/**
 * `/v1/files` (docs/platform.md): upload (a raw body with its Content-Type and `?filename=`, or multipart with a
 * `file` part), download, metadata, delete; and `GET /v1/entities/{schema}/{id}/files`, a record's files.
 */

const TAGS = ["Files"];
const Params = idParams("file_id");

const uploadRoute = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "uploadFile",
  tags: TAGS,
  summary: "Upload a file: the raw body (any Content-Type, `?filename=`) or multipart/form-data with a `file` part",
  description: `At most ${LIMITS.MAX_FILE_BYTES} bytes (413). \`entity_schema\` + \`entity_id\` attach it to a record (404 if unknown).`,
  request: {
    query: UploadQuery,
    body: {
      content: {
        "application/octet-stream": binaryBody,
        "text/plain": binaryBody,
        "multipart/form-data": multipartBody,
        // Any other type is stored as the file's type (a body declared JSON must be valid JSON).
        "*/*": binaryBody,
      },
      required: true,
    },
  },
  responses: { 201: jsonResponse(FileSchema, "Stored"), ...errorResponses(400, 401, 403, 404, 413) },
});

const listRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "listFiles",
  tags: TAGS,
  summary: "List the organization's files",
  request: { query: Paging },
  responses: { 200: jsonResponse(FileListSchema, "Files"), ...errorResponses(400, 401, 403) },
});

const downloadRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{file_id}",
  operationId: "downloadFile",
  tags: TAGS,
  summary: "Download a file (as an attachment, with its Content-Type)",
  request: { params: Params },
  responses: {
    200: { description: "The bytes", content: { "application/octet-stream": binaryBody } },
    ...errorResponses(401, 403, 404),
  },
});

const infoRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{file_id}/info",
  operationId: "getFileInfo",
  tags: TAGS,
  summary: "A file's metadata",
  request: { params: Params },
  responses: { 200: jsonResponse(FileSchema, "The file"), ...errorResponses(401, 403, 404) },
});

const deleteRoute = scopedRoute("automations:write", {
  method: "delete",
  path: "/{file_id}",
  operationId: "deleteFile",
  tags: TAGS,
  summary: "Delete a file; actions naming it later fail with a clear error",
  request: { params: Params },
  responses: { 200: jsonResponse(Deleted, "Deleted"), ...errorResponses(401, 403, 404) },
});

/** The upload's bytes, name and type from a raw or multipart body. */
async function readUpload(req: Request, filename: string | undefined) {
  const type = req.headers.get("content-type") ?? "application/octet-stream";
  if (/^multipart\/form-data/i.test(type)) {
    let form: FormData;
    try {
      form = await req.formData();
    } catch {
      throw new AppError(400, "VALIDATION_ERROR", "Malformed multipart body", [{ location: "body", message: "not multipart" }]);
    }
    const part = form.get("file");
    if (!part || typeof part === "string") {
      throw new AppError(400, "VALIDATION_ERROR", "The multipart body needs a `file` part", [
        { path: "file", location: "body", message: "Required file part" },
      ]);
    }
    return nonEmpty({
      bytes: new Uint8Array(await part.arrayBuffer()),
      filename: part.name || filename || "file",
      type: part.type,
    });
  }
  const upload = nonEmpty({ bytes: new Uint8Array(await req.arrayBuffer()), filename: filename ?? "file", type });
  // A body declared JSON must be JSON: a malformed one is a client mistake, not a file to keep.
  if (/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    try {
      JSON.parse(new TextDecoder().decode(upload.bytes));
    } catch {
      throw new AppError(400, "MALFORMED_REQUEST", "The body is declared as JSON but is not valid JSON", [
        { location: "body", message: "Malformed JSON" },
      ]);
    }
  }
  return upload;
}

function nonEmpty<U extends { bytes: Uint8Array }>(upload: U): U {
  if (upload.bytes.byteLength === 0) {
    throw new AppError(400, "VALIDATION_ERROR", "The upload is empty", [{ location: "body", message: "Required body missing" }]);
  }
  return upload;
}

export const filesRouter = createRouter()
  .openapi(uploadRoute, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const entity = q.entity_schema && q.entity_id ? { schema: q.entity_schema, id: q.entity_id } : undefined;
    if (entity) await requireRecordFor(c.env, p.orgId, entity.schema, entity.id);
    const upload = await readUpload(c.req.raw, q.filename);
    const tags = (q.tags ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    const row = await storeFile(c.env, p.orgId, {
      bytes: upload.bytes,
      filename: upload.filename,
      contentType: upload.type,
      source: "upload",
      createdBy: p.actor,
      entity,
      tags,
    });
    return c.json(toFileView(row), 201);
  })
  .openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const page = await listFileRows(c.env.DB, c.get("principal").orgId, {
      limit: q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
      offset: q.from ?? 0,
    });
    return c.json({ total: page.total, results: page.results.map(toFileView) }, 200);
  })
  .openapi(downloadRoute, async (c) => {
    const { row, body } = await openFile(c.env, c.get("principal").orgId, c.req.valid("param").file_id);
    return new Response(body.body, {
      status: 200,
      headers: {
        "content-type": row.content_type,
        "content-length": String(row.size),
        "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(row.filename)}`,
        etag: `"${row.sha256}"`,
        // Uploaded bytes are never rendered as a page of this origin.
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
      },
    });
  })
  .openapi(infoRoute, async (c) => {
    const row = await requireFile(c.env, c.get("principal").orgId, c.req.valid("param").file_id);
    return c.json(toFileView(row), 200);
  })
  .openapi(deleteRoute, async (c) => {
    const id = c.req.valid("param").file_id;
    await removeFile(c.env, c.get("principal").orgId, id);
    return c.json({ id, deleted: true as const }, 200);
  });

const entityFilesRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{schema}/{id}/files",
  operationId: "listEntityFiles",
  tags: TAGS,
  summary: "The files attached to a record (uploads naming it, documents made for it, its e-mail attachments)",
  request: { params: z.object({ schema: SchemaParam, id: IdParam("id") }), query: Paging },
  responses: { 200: jsonResponse(FileListSchema, "Files"), ...errorResponses(400, 401, 403, 404) },
});

/** Mounted at /v1/entities beside the records router. */
export const entityFilesRouter = createRouter().openapi(entityFilesRoute, async (c) => {
  const orgId = c.get("principal").orgId;
  const { schema, id } = c.req.valid("param");
  await requireRecordFor(c.env, orgId, schema, id);
  const q = c.req.valid("query");
  const page = await listFileRows(c.env.DB, orgId, {
    entityId: id,
    limit: q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
    offset: q.from ?? 0,
  });
  return c.json({ total: page.total, results: page.results.map(toFileView) }, 200);
});
