import type { Env } from "../env";
import { toHex } from "../lib/crypto";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { deleteFileRow, getFileRow, upsertFile, type FileRow, type FileSource } from "../store/files";
import { getRecord } from "../store/records";

/**
 * Platform files: bytes in R2 (`FILES`, key `<org_id>/<file_id>`), metadata in D1. The bytes are written
 * before the row, so a listed file can always be read; a file written again under the same id (a retried
 * action) replaces both.
 */

export interface FileView {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  entity_schema: string | null;
  entity_id: string | null;
  tags: string[];
  source: FileSource;
  created_at: string;
}

export const toFileView = (r: FileRow): FileView => ({
  id: r.id,
  filename: r.filename,
  content_type: r.content_type,
  size: r.size,
  sha256: r.sha256,
  entity_schema: r.entity_schema,
  entity_id: r.entity_id,
  tags: r.tags,
  source: r.source,
  created_at: r.created_at,
});

const objectKey = (orgId: string, id: string) => `${orgId}/${id}`;

export interface NewFile {
  bytes: Uint8Array;
  filename: string;
  contentType: string;
  source: FileSource;
  createdBy: string;
  /** The record the file is attached to. */
  entity?: { schema: string; id: string };
  tags?: string[];
  /** A fixed id (derived from an action's idempotency key), else a new one. */
  id?: string;
}

/** A file name without path separators or control characters, at most MAX_FILENAME_LENGTH characters. */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  return clean.slice(0, LIMITS.MAX_FILENAME_LENGTH) || "file";
}

function tooLarge(size: number): AppError {
  return new AppError(413, "PAYLOAD_TOO_LARGE", `A file may be at most ${LIMITS.MAX_FILE_BYTES} bytes (this one: ${size})`);
}

/** Checks that the record a file is attached to exists in the org (404 otherwise, as for another org's ids). */
export async function requireRecordFor(env: Env, orgId: string, schema: string, id: string): Promise<void> {
  if (!(await getRecord(env.DB, orgId, schema, id))) throw notFound("Record");
}

export async function storeFile(env: Env, orgId: string, f: NewFile): Promise<FileRow> {
  if (f.bytes.byteLength > LIMITS.MAX_FILE_BYTES) throw tooLarge(f.bytes.byteLength);
  const row: FileRow = {
    id: f.id ?? newId(),
    org_id: orgId,
    filename: cleanFilename(f.filename),
    content_type: f.contentType || "application/octet-stream",
    size: f.bytes.byteLength,
    sha256: toHex(await crypto.subtle.digest("SHA-256", f.bytes)),
    entity_schema: f.entity?.schema ?? null,
    entity_id: f.entity?.id ?? null,
    tags: [...new Set(f.tags ?? [])],
    source: f.source,
    created_by: f.createdBy,
    created_at: isoNow(),
  };
  await env.FILES.put(objectKey(orgId, row.id), f.bytes, {
    httpMetadata: { contentType: row.content_type },
    customMetadata: { filename: row.filename, sha256: row.sha256 },
  });
  await upsertFile(env.DB, row);
  return row;
}

export async function requireFile(env: Env, orgId: string, id: string): Promise<FileRow> {
  const row = await getFileRow(env.DB, orgId, id);
  if (!row) throw notFound("File");
  return row;
}

/** The file's row and its bytes; 404 when either is gone. */
export async function openFile(env: Env, orgId: string, id: string): Promise<{ row: FileRow; body: R2ObjectBody }> {
  const row = await requireFile(env, orgId, id);
  const body = await env.FILES.get(objectKey(orgId, id));
  if (!body) throw notFound("File");
  return { row, body };
}

export async function readFileBytes(env: Env, row: FileRow): Promise<Uint8Array | null> {
  const body = await env.FILES.get(objectKey(row.org_id, row.id));
  return body ? new Uint8Array(await body.arrayBuffer()) : null;
}

export async function removeFile(env: Env, orgId: string, id: string): Promise<void> {
  if (!(await deleteFileRow(env.DB, orgId, id))) throw notFound("File");
  await env.FILES.delete(objectKey(orgId, id));
}

/** epilot's document types (send-email's `attachments.source_filter.document_type`) from a content type. */
export function documentTypeOf(contentType: string): string {
  const t = contentType.toLowerCase().split(";")[0].trim();
  if (t === "application/pdf" || t.includes("word") || t.includes("opendocument.text") || t === "application/rtf")
    return "document";
  if (t.includes("spreadsheet") || t.includes("excel") || t === "text/csv") return "spreadsheet";
  if (t.includes("presentation") || t.includes("powerpoint")) return "presentation";
  if (t.startsWith("text/")) return "text";
  if (t.startsWith("image/")) return "image";
  if (t.startsWith("video/")) return "video";
  if (t.startsWith("audio/")) return "audio";
  if (t.startsWith("font/")) return "font";
  if (/zip|tar|gzip|rar|7z/.test(t)) return "archive";
  if (t.startsWith("application/")) return "application";
  return "unknown";
}
