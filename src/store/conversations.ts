/** D1 access of `conversations` and `conversation_messages` (migration 0019): every query filters on org_id. */

export interface ConversationRow {
  id: string;
  org_id: string;
  title: string | null;
  created_by: string;
  provider: string | null;
  message_count: number;
  /** Tools the model may run without a person's approval. */
  auto_approve_tools: string[];
  created_at: string;
  updated_at: string;
}

interface RawConversation extends Omit<ConversationRow, "auto_approve_tools"> {
  auto_approve_tools: string | null;
}

export const MESSAGE_ROLES = ["user", "assistant", "tool", "system"] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];
export const MESSAGE_STATUSES = ["completed", "error", "refused", "incomplete", "awaiting_approval"] as const;
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
  /** An assistant message: the write tool calls still waiting for a person's decision, or null. */
  pending_tool_calls: ToolCalled[] | null;
  created_at: string;
}

/** A message to append: its seq is assigned by the insert. */
export type NewMessage = Omit<MessageRow, "seq">;

interface RawMessage extends Omit<MessageRow, "tools_called" | "tool_arguments" | "tool_success" | "pending_tool_calls"> {
  pending_tool_calls: string | null;
  tools_called: string | null;
  tool_arguments: string | null;
  tool_success: number | null;
}

const CONV_COLUMNS = "id, org_id, title, created_by, provider, message_count, auto_approve_tools, created_at, updated_at";
const MSG_COLUMNS =
  "id, org_id, conversation_id, seq, role, content, status, provider, model, tokens_used, tools_called, tool_call_id, " +
  "tool_name, tool_arguments, tool_success, error_message, created_at, pending_tool_calls";

const fromRawConversation = (r: RawConversation): ConversationRow => ({
  ...r,
  auto_approve_tools: r.auto_approve_tools === null ? [] : (parseJson(r.auto_approve_tools) as string[]),
});

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
  pending_tool_calls: r.pending_tool_calls === null ? null : (parseJson(r.pending_tool_calls) as ToolCalled[]),
  tools_called: r.tools_called === null ? null : (parseJson(r.tools_called) as ToolCalled[]),
  tool_arguments: parseJson(r.tool_arguments),
  tool_success: r.tool_success === null ? null : r.tool_success === 1,
});

export async function insertConversation(db: D1Database, row: ConversationRow): Promise<void> {
  await db
    .prepare(`INSERT INTO conversations (${CONV_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(
      row.id,
      row.org_id,
      row.title,
      row.created_by,
      row.provider,
      row.message_count,
      row.auto_approve_tools.length > 0 ? JSON.stringify(row.auto_approve_tools) : null,
      row.created_at,
      row.updated_at,
    )
    .run();
}

export async function countConversations(db: D1Database, orgId: string): Promise<number> {
  const row = await db.prepare(`SELECT COUNT(*) AS n FROM conversations WHERE org_id = ?`).bind(orgId).first<{ n: number }>();
  return row?.n ?? 0;
}

export async function getConversation(db: D1Database, orgId: string, id: string): Promise<ConversationRow | null> {
  const row = await db
    .prepare(`SELECT ${CONV_COLUMNS} FROM conversations WHERE org_id = ? AND id = ?`)
    .bind(orgId, id)
    .first<RawConversation>();
  return row ? fromRawConversation(row) : null;
}

/** Most recently updated first; with `createdBy`, only the conversations that principal started. */
export async function listConversations(
  db: D1Database,
  orgId: string,
  page: { limit: number; offset: number },
  createdBy?: string,
): Promise<{ total: number; results: ConversationRow[] }> {
  const where = createdBy === undefined ? "org_id = ?" : "org_id = ? AND created_by = ?";
  const binds = createdBy === undefined ? [orgId] : [orgId, createdBy];
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM conversations WHERE ${where}`).bind(...binds),
    db
      .prepare(`SELECT ${CONV_COLUMNS} FROM conversations WHERE ${where} ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`)
      .bind(...binds, page.limit, page.offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: (rows.results as RawConversation[]).map(fromRawConversation) };
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
         SELECT ?, ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
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
        m.pending_tool_calls === null || m.pending_tool_calls.length === 0 ? null : JSON.stringify(m.pending_tool_calls),
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

/** The message whose pending tool calls include `toolCallId`, or null (decided already, or never asked for). */
export async function findPendingToolCall(
  db: D1Database,
  orgId: string,
  conversationId: string,
  toolCallId: string,
): Promise<MessageRow | null> {
  const row = await db
    .prepare(
      `SELECT ${MSG_COLUMNS} FROM conversation_messages
       WHERE org_id = ? AND conversation_id = ? AND pending_tool_calls IS NOT NULL
         AND EXISTS (SELECT 1 FROM json_each(pending_tool_calls) WHERE json_extract(value, '$.id') = ?)
       ORDER BY seq DESC LIMIT 1`,
    )
    .bind(orgId, conversationId, toolCallId)
    .first<RawMessage>();
  return row ? fromRaw(row) : null;
}

/** Whether some tool call of this conversation was asked for (by any assistant message), decided or not. */
export async function toolCallExists(
  db: D1Database,
  orgId: string,
  conversationId: string,
  toolCallId: string,
): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT 1 AS found FROM conversation_messages
       WHERE org_id = ? AND conversation_id = ? AND role = 'assistant' AND tools_called IS NOT NULL
         AND EXISTS (SELECT 1 FROM json_each(tools_called) WHERE json_extract(value, '$.id') = ?) LIMIT 1`,
    )
    .bind(orgId, conversationId, toolCallId)
    .first<{ found: number }>();
  return row !== null;
}

/** Whether a message of the conversation still waits for decisions on tool calls. */
export async function hasPendingToolCalls(db: D1Database, orgId: string, conversationId: string): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT 1 AS found FROM conversation_messages WHERE org_id = ? AND conversation_id = ? AND pending_tool_calls IS NOT NULL LIMIT 1`,
    )
    .bind(orgId, conversationId)
    .first<{ found: number }>();
  return row !== null;
}

/** Sets what still waits on a message (null: nothing; the message is then `completed`). */
export async function setPendingToolCalls(
  db: D1Database,
  orgId: string,
  conversationId: string,
  messageId: string,
  pending: ToolCalled[] | null,
): Promise<void> {
  await db
    .prepare(
      `UPDATE conversation_messages SET pending_tool_calls = ?, status = CASE WHEN ? IS NULL THEN 'completed' ELSE status END
       WHERE org_id = ? AND conversation_id = ? AND id = ?`,
    )
    .bind(
      pending && pending.length > 0 ? JSON.stringify(pending) : null,
      pending && pending.length > 0 ? 1 : null,
      orgId,
      conversationId,
      messageId,
    )
    .run();
}
