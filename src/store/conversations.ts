/** D1 access of `conversations` and `conversation_messages` (migration 0019): every query filters on org_id. */

export interface ConversationRow {
  id: string;
  org_id: string;
  title: string | null;
  created_by: string;
  provider: string | null;
  message_count: number;
  created_at: string;
  updated_at: string;
}

export const MESSAGE_ROLES = ["user", "assistant", "tool", "system"] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];
export const MESSAGE_STATUSES = ["completed", "error", "refused", "incomplete"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface ToolCalled {
  id: string;
  name: string;
  /** The parsed arguments, or the raw text when the model sent malformed JSON. */
  arguments: unknown;
}

export interface MessageRow {
  id: string;
  org_id: string;
  conversation_id: string;
  seq: number;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  provider: string | null;
  model: string | null;
  tokens_used: number | null;
  tools_called: ToolCalled[] | null;
  tool_call_id: string | null;
  tool_name: string | null;
  tool_arguments: unknown;
  tool_success: boolean | null;
  error_message: string | null;
  created_at: string;
}

/** A message to append: its seq is assigned by the insert. */
export type NewMessage = Omit<MessageRow, "seq">;

interface RawMessage extends Omit<MessageRow, "tools_called" | "tool_arguments" | "tool_success"> {
  tools_called: string | null;
  tool_arguments: string | null;
  tool_success: number | null;
}

const CONV_COLUMNS = "id, org_id, title, created_by, provider, message_count, created_at, updated_at";
const MSG_COLUMNS =
  "id, org_id, conversation_id, seq, role, content, status, provider, model, tokens_used, tools_called, tool_call_id, " +
  "tool_name, tool_arguments, tool_success, error_message, created_at";

const parseJson = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

const fromRaw = (r: RawMessage): MessageRow => ({
  ...r,
  tools_called: r.tools_called === null ? null : (parseJson(r.tools_called) as ToolCalled[]),
  tool_arguments: parseJson(r.tool_arguments),
  tool_success: r.tool_success === null ? null : r.tool_success === 1,
});

export async function insertConversation(db: D1Database, row: ConversationRow): Promise<void> {
  await db
    .prepare(`INSERT INTO conversations (${CONV_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(row.id, row.org_id, row.title, row.created_by, row.provider, row.message_count, row.created_at, row.updated_at)
    .run();
}

export async function countConversations(db: D1Database, orgId: string): Promise<number> {
  const row = await db.prepare(`SELECT COUNT(*) AS n FROM conversations WHERE org_id = ?`).bind(orgId).first<{ n: number }>();
  return row?.n ?? 0;
}

export async function getConversation(db: D1Database, orgId: string, id: string): Promise<ConversationRow | null> {
  return db
    .prepare(`SELECT ${CONV_COLUMNS} FROM conversations WHERE org_id = ? AND id = ?`)
    .bind(orgId, id)
    .first<ConversationRow>();
}

/** Most recently updated first. */
export async function listConversations(
  db: D1Database,
  orgId: string,
  page: { limit: number; offset: number },
): Promise<{ total: number; results: ConversationRow[] }> {
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM conversations WHERE org_id = ?`).bind(orgId),
    db
      .prepare(`SELECT ${CONV_COLUMNS} FROM conversations WHERE org_id = ? ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`)
      .bind(orgId, page.limit, page.offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: rows.results as ConversationRow[] };
}

export async function setConversationTitle(
  db: D1Database,
  orgId: string,
  id: string,
  title: string,
  at: string,
): Promise<boolean> {
  const res = await db
    .prepare(`UPDATE conversations SET title = ?, updated_at = ? WHERE org_id = ? AND id = ?`)
    .bind(title, at, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** Names a conversation created without a title (from its first message); a title already set is kept. */
export async function setTitleIfMissing(db: D1Database, orgId: string, id: string, title: string): Promise<void> {
  await db
    .prepare(`UPDATE conversations SET title = ? WHERE org_id = ? AND id = ? AND title IS NULL`)
    .bind(title, orgId, id)
    .run();
}

/** Deletes the conversation and its messages in one batch; false when it did not exist. */
export async function deleteConversation(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const [, conv] = await db.batch([
    db.prepare(`DELETE FROM conversation_messages WHERE org_id = ? AND conversation_id = ?`).bind(orgId, id),
    db.prepare(`DELETE FROM conversations WHERE org_id = ? AND id = ?`).bind(orgId, id),
  ]);
  return conv.meta.changes > 0;
}

/**
 * Takes the conversation for one turn until `until` (ms): false when another turn holds it. D1 has one writer, so
 * the check and the take are one atomic statement; a crashed turn's claim lapses at `until`.
 */
export async function claimConversation(db: D1Database, orgId: string, id: string, now: number, until: number): Promise<boolean> {
  const res = await db
    .prepare(`UPDATE conversations SET busy_until = ? WHERE org_id = ? AND id = ? AND (busy_until IS NULL OR busy_until <= ?)`)
    .bind(until, orgId, id, now)
    .run();
  return res.meta.changes > 0;
}

export async function releaseConversation(db: D1Database, orgId: string, id: string, provider: string | null): Promise<void> {
  await db
    .prepare(`UPDATE conversations SET busy_until = NULL, provider = COALESCE(?, provider) WHERE org_id = ? AND id = ?`)
    .bind(provider, orgId, id)
    .run();
}

/**
 * Appends messages in order: each takes the next seq of its conversation inside its own INSERT (atomic under D1's
 * single writer), and the conversation's count and updated_at follow in the same batch. Returns them with their seq.
 */
export async function appendMessages(
  db: D1Database,
  orgId: string,
  conversationId: string,
  messages: NewMessage[],
): Promise<MessageRow[]> {
  if (messages.length === 0) return [];
  const inserts = messages.map((m) =>
    db
      .prepare(
        `INSERT INTO conversation_messages (${MSG_COLUMNS})
         SELECT ?, ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         FROM conversation_messages WHERE org_id = ? AND conversation_id = ? RETURNING seq`,
      )
      .bind(
        m.id,
        orgId,
        conversationId,
        m.role,
        m.content,
        m.status,
        m.provider,
        m.model,
        m.tokens_used,
        m.tools_called === null ? null : JSON.stringify(m.tools_called),
        m.tool_call_id,
        m.tool_name,
        m.tool_arguments === null || m.tool_arguments === undefined
          ? null
          : typeof m.tool_arguments === "string"
            ? m.tool_arguments
            : JSON.stringify(m.tool_arguments),
        m.tool_success === null ? null : m.tool_success ? 1 : 0,
        m.error_message,
        m.created_at,
        orgId,
        conversationId,
      ),
  );
  const last = messages[messages.length - 1];
  const results = await db.batch([
    ...inserts,
    db
      .prepare(`UPDATE conversations SET message_count = message_count + ?, updated_at = ? WHERE org_id = ? AND id = ?`)
      .bind(messages.length, last.created_at, orgId, conversationId),
  ]);
  return messages.map((m, i) => ({ ...m, seq: (results[i].results[0] as { seq: number }).seq }));
}

/** A page of messages in conversation order. */
export async function listMessages(
  db: D1Database,
  orgId: string,
  conversationId: string,
  page: { limit: number; offset: number },
): Promise<MessageRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${MSG_COLUMNS} FROM conversation_messages WHERE org_id = ? AND conversation_id = ? ORDER BY seq LIMIT ? OFFSET ?`,
    )
    .bind(orgId, conversationId, page.limit, page.offset)
    .all<RawMessage>();
  return results.map(fromRaw);
}

/** The latest `limit` messages, oldest first (the context sent to the model). */
export async function recentMessages(
  db: D1Database,
  orgId: string,
  conversationId: string,
  limit: number,
): Promise<MessageRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM (SELECT ${MSG_COLUMNS} FROM conversation_messages WHERE org_id = ? AND conversation_id = ?
       ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
    )
    .bind(orgId, conversationId, limit)
    .all<RawMessage>();
  return results.map(fromRaw);
}

/** Every tool message of the conversation, in order (the tool calls a workflow can be extracted from). */
export async function listToolMessages(
  db: D1Database,
  orgId: string,
  conversationId: string,
  limit: number,
): Promise<MessageRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${MSG_COLUMNS} FROM conversation_messages WHERE org_id = ? AND conversation_id = ? AND role = 'tool' ORDER BY seq LIMIT ?`,
    )
    .bind(orgId, conversationId, limit)
    .all<RawMessage>();
  return results.map(fromRaw);
}
