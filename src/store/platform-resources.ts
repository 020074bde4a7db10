/**
 * The SQL of the platform's named resources (webhook targets, e-mail and document templates, inboxes, mapping
 * configs; migration 0060): tables of the same shape, `(org_id, id)` keyed, with a name and a few columns, some
 * of them JSON. One descriptor per table says which; every statement filters on org_id. Table and column names
 * come only from the descriptors below, never from a request.
 */

export interface ResourceTable<Row extends ResourceRow> {
  table: string;
  /** Every column, in insert order. */
  columns: readonly (keyof Row & string)[];
  /** Columns stored as JSON text. */
  json: readonly (keyof Row & string)[];
}

export interface ResourceRow {
  id: string;
  org_id: string;
  name: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface WebhookTargetRow extends ResourceRow {
  url: string;
  auth_type: string;
  auth_public: Record<string, string>;
  headers: Record<string, string>;
  key_id: string | null;
  ciphertext: string | null;
}

export interface EmailTemplateRow extends ResourceRow {
  languages: Record<string, { subject: string; body_html: string }>;
}

export interface DocumentTemplateRow extends ResourceRow {
  format: string;
  content: string;
}

export interface InboxRow extends ResourceRow {
  address: string | null;
}

export interface MappingConfigRow extends ResourceRow {
  source_schema: string;
  targets: Record<string, unknown>[];
  version: number;
}

const BASE = ["id", "org_id", "name", "created_by", "created_at", "updated_at"] as const;

export const WEBHOOK_TARGETS: ResourceTable<WebhookTargetRow> = {
  table: "webhook_targets",
  columns: [...BASE, "url", "auth_type", "auth_public", "headers", "key_id", "ciphertext"],
  json: ["auth_public", "headers"],
};
export const EMAIL_TEMPLATES: ResourceTable<EmailTemplateRow> = {
  table: "email_templates",
  columns: [...BASE, "languages"],
  json: ["languages"],
};
export const DOCUMENT_TEMPLATES: ResourceTable<DocumentTemplateRow> = {
  table: "document_templates",
  columns: [...BASE, "format", "content"],
  json: [],
};
export const INBOXES: ResourceTable<InboxRow> = { table: "inboxes", columns: [...BASE, "address"], json: [] };
export const MAPPING_CONFIGS: ResourceTable<MappingConfigRow> = {
  table: "mapping_configs",
  columns: [...BASE, "source_schema", "targets", "version"],
  json: ["targets"],
};

type Raw = Record<string, unknown>;

const toColumn = <R extends ResourceRow>(t: ResourceTable<R>, key: string, value: unknown): unknown =>
  (t.json as readonly string[]).includes(key) ? JSON.stringify(value) : (value ?? null);

function fromRaw<R extends ResourceRow>(t: ResourceTable<R>, raw: Raw): R {
  const row: Raw = { ...raw };
  for (const k of t.json) row[k] = typeof raw[k] === "string" ? JSON.parse(raw[k]) : raw[k];
  return row as R;
}

export async function insertResource<R extends ResourceRow>(db: D1Database, t: ResourceTable<R>, row: R): Promise<void> {
  await db
    .prepare(`INSERT INTO ${t.table} (${t.columns.join(", ")}) VALUES (${t.columns.map(() => "?").join(", ")})`)
    .bind(...t.columns.map((c) => toColumn(t, c, row[c])))
    .run();
}

export async function getResource<R extends ResourceRow>(
  db: D1Database,
  t: ResourceTable<R>,
  orgId: string,
  id: string,
): Promise<R | null> {
  const raw = await db
    .prepare(`SELECT ${t.columns.join(", ")} FROM ${t.table} WHERE org_id = ? AND id = ?`)
    .bind(orgId, id)
    .first<Raw>();
  return raw ? fromRaw(t, raw) : null;
}

/** A page of the org's rows, oldest first, with the total. */
export async function listResources<R extends ResourceRow>(
  db: D1Database,
  t: ResourceTable<R>,
  orgId: string,
  limit: number,
  offset: number,
): Promise<{ total: number; results: R[] }> {
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM ${t.table} WHERE org_id = ?`).bind(orgId),
    db
      .prepare(`SELECT ${t.columns.join(", ")} FROM ${t.table} WHERE org_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?`)
      .bind(orgId, limit, offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: (rows.results as Raw[]).map((r) => fromRaw(t, r)) };
}

export async function countResources<R extends ResourceRow>(db: D1Database, t: ResourceTable<R>, orgId: string): Promise<number> {
  const row = await db.prepare(`SELECT COUNT(*) AS n FROM ${t.table} WHERE org_id = ?`).bind(orgId).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Writes the given columns (never id or org_id); false when the row does not exist. */
export async function updateResource<R extends ResourceRow>(
  db: D1Database,
  t: ResourceTable<R>,
  orgId: string,
  id: string,
  patch: Partial<Omit<R, "id" | "org_id" | "created_by" | "created_at">>,
): Promise<boolean> {
  const keys = Object.keys(patch).filter(
    (k) => (t.columns as readonly string[]).includes(k) && k !== "id" && k !== "org_id",
  ) as (keyof R & string)[];
  if (keys.length === 0) return (await getResource(db, t, orgId, id)) !== null;
  const res = await db
    .prepare(`UPDATE ${t.table} SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE org_id = ? AND id = ?`)
    .bind(...keys.map((k) => toColumn(t, k, (patch as Raw)[k])), orgId, id)
    .run();
  return res.meta.changes > 0;
}

export async function deleteResource<R extends ResourceRow>(
  db: D1Database,
  t: ResourceTable<R>,
  orgId: string,
  id: string,
): Promise<boolean> {
  const res = await db.prepare(`DELETE FROM ${t.table} WHERE org_id = ? AND id = ?`).bind(orgId, id).run();
  return res.meta.changes > 0;
}

/** Which of `ids` name a row of the org (one statement, whatever the number of ids). */
export async function existingResourceIds<R extends ResourceRow>(
  db: D1Database,
  t: ResourceTable<R>,
  orgId: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .prepare(`SELECT id FROM ${t.table} WHERE org_id = ? AND id IN (SELECT value FROM json_each(?))`)
    .bind(orgId, JSON.stringify(ids))
    .all<{ id: string }>();
  return new Set(rows.results.map((r) => r.id));
}
