import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { EmailAddressInput, InboundEmail } from "../schemas/inboxes";
import type { EntitySnapshot } from "../schemas/records";
import { INBOXES, getResource } from "../store/platform-resources";
import { filterToSql } from "../store/record-sql";
import { getRecord, searchRecords } from "../store/records";
import { deterministicId } from "./executions";
import { storeFile } from "./files";
import { recordChangeEvents, sendRecordEvent, type ChangeEvents } from "./record-events";
import { createRecord, toSnapshot, updateRecord } from "./records";

/**
 * E-mail threads and messages as records (docs/platform.md): schema `email_thread` (subject, inbox_id,
 * assignees, status open/done, message_count, last_message_at) and `email_message` (thread_id, inbox_id,
 * direction INBOUND/OUTBOUND, from, to, cc, subject, text, html, message_id, in_reply_to, references,
 * attachments). An inbound message joins the thread of the message its In-Reply-To/References name, else opens
 * one. Its attachments are files attached to the message record.
 */

export const THREAD_SCHEMA = "email_thread";
export const MESSAGE_SCHEMA = "email_message";

export interface Address {
  email: string;
  name?: string;
}

export const toAddress = (a: EmailAddressInput): Address => (typeof a === "string" ? { email: a } : a);

/** The thread of the newest message among `messageIds` (RFC Message-IDs), if any. */
async function threadByMessageIds(db: D1Database, orgId: string, messageIds: string[]): Promise<string | null> {
  if (messageIds.length === 0) return null;
  const found = await searchRecords(db, orgId, MESSAGE_SCHEMA, filterToSql([{ terms: { message_id: messageIds } }]), 1, 0);
  const threadId = found.results[0]?.data.thread_id;
  return typeof threadId === "string" ? threadId : null;
}

export interface StoredInbound {
  thread_id: string;
  message_id: string;
  inbox_id: string | null;
  /** The message opened its thread (a `new_email_thread` event follows). */
  new_thread: boolean;
}

/**
 * Stores an inbound e-mail once per intake event: a repeated event finds the message it stored. Record writes
 * raise their `entity_operation` events like any other write.
 */
export async function storeInboundEmail(env: Env, orgId: string, eventId: string, email: InboundEmail): Promise<StoredInbound> {
  const db = env.DB;
  const seen = await searchRecords(db, orgId, MESSAGE_SCHEMA, filterToSql([{ term: { intake_event_id: eventId } }]), 1, 0);
  if (seen.results[0]) {
    const d = seen.results[0].data;
    return {
      thread_id: String(d.thread_id),
      message_id: seen.results[0].id,
      inbox_id: typeof d.inbox_id === "string" ? d.inbox_id : null,
      new_thread: d.opened_thread === true,
    };
  }
  const inboxId = email.inbox_id ?? null;
  if (inboxId && !(await getResource(db, INBOXES, orgId, inboxId))) throw notFound("Inbox");
  // Every attachment is decoded and sized before anything is written: a refused e-mail leaves nothing behind.
  const decoded = (email.attachments ?? []).map((a) => ({
    ...a,
    bytes: Uint8Array.from(atob(a.content_base64), (c) => c.charCodeAt(0)),
  }));
  const tooLarge = decoded.find((a) => a.bytes.byteLength > LIMITS.MAX_FILE_BYTES);
  if (tooLarge) {
    throw new AppError(413, "PAYLOAD_TOO_LARGE", `Attachment ${tooLarge.filename} exceeds ${LIMITS.MAX_FILE_BYTES} bytes`);
  }
  const actor = `intake:${eventId}`;
  const events = (part: string): ChangeEvents => recordChangeEvents(env, { eventId: `rec:${eventId}:${part}` });
  const at = email.sent_at ?? new Date().toISOString();
  const refs = [...(email.references ?? []), ...(email.in_reply_to ? [email.in_reply_to] : [])];
  let threadId = await threadByMessageIds(db, orgId, refs);
  const newThread = threadId === null;
  if (threadId === null) {
    const created = await createRecord(
      db,
      orgId,
      actor,
      THREAD_SCHEMA,
      { subject: email.subject, inbox_id: inboxId, assignees: [], status: "open", message_count: 0, last_message_at: at },
      events("thread"),
    );
    await sendRecordEvent(created);
    threadId = created.record!._id;
  }
  const message = await createRecord(
    db,
    orgId,
    actor,
    MESSAGE_SCHEMA,
    {
      thread_id: threadId,
      inbox_id: inboxId,
      direction: "INBOUND",
      from: toAddress(email.from),
      to: email.to.map(toAddress),
      cc: (email.cc ?? []).map(toAddress),
      subject: email.subject,
      text: email.text ?? null,
      html: email.html ?? null,
      message_id: email.message_id ?? null,
      in_reply_to: email.in_reply_to ?? null,
      references: email.references ?? [],
      sent_at: at,
      intake_event_id: eventId,
      opened_thread: newThread,
    },
    events("message"),
  );
  const messageId = message.record!._id;
  const attachments = [];
  for (const [i, a] of decoded.entries()) {
    const row = await storeFile(env, orgId, {
      id: await deterministicId(orgId, eventId, "attachment", String(i)),
      bytes: a.bytes,
      filename: a.filename,
      contentType: a.content_type,
      source: "email",
      createdBy: actor,
      entity: { schema: MESSAGE_SCHEMA, id: messageId },
    });
    attachments.push({ file_id: row.id, filename: row.filename, content_type: row.content_type, size: row.size });
  }
  // The message's event is sent once it lists its attachments, so flows it starts find them.
  if (attachments.length) await updateRecord(db, orgId, actor, MESSAGE_SCHEMA, messageId, { attachments });
  await sendRecordEvent(message);
  await touchThread(env, orgId, actor, threadId, at, "INBOUND");
  return { thread_id: threadId, message_id: messageId, inbox_id: inboxId, new_thread: newThread };
}

/** Counts a new message on its thread; an inbound one reopens a thread marked done. */
async function touchThread(env: Env, orgId: string, actor: string, threadId: string, at: string, direction: string) {
  const row = await getRecord(env.DB, orgId, THREAD_SCHEMA, threadId);
  if (!row) return;
  const count = typeof row.data.message_count === "number" ? row.data.message_count : 0;
  await updateRecord(env.DB, orgId, actor, THREAD_SCHEMA, threadId, {
    message_count: count + 1,
    last_message_at: at,
    ...(direction === "INBOUND" ? { status: "open" } : {}),
  });
}

export interface ThreadContext {
  thread: EntitySnapshot;
  /** The message to reply to or forward: the execution's message, or the thread's newest inbound one. */
  message: EntitySnapshot | null;
}

/** The thread (and message) of an execution's entity, when it is an e-mail message or thread. */
export async function threadContextOf(
  env: Env,
  orgId: string,
  entity: Record<string, unknown> | null,
): Promise<ThreadContext | null> {
  if (!entity || typeof entity._id !== "string") return null;
  if (entity._schema === MESSAGE_SCHEMA) {
    const message = await getRecord(env.DB, orgId, MESSAGE_SCHEMA, entity._id);
    const threadId = message?.data.thread_id;
    const thread = typeof threadId === "string" ? await getRecord(env.DB, orgId, THREAD_SCHEMA, threadId) : null;
    return thread && message ? { thread: toSnapshot(thread), message: toSnapshot(message) } : null;
  }
  if (entity._schema === THREAD_SCHEMA) {
    const thread = await getRecord(env.DB, orgId, THREAD_SCHEMA, entity._id);
    if (!thread) return null;
    const latest = await searchRecords(
      env.DB,
      orgId,
      MESSAGE_SCHEMA,
      filterToSql([{ term: { thread_id: thread.id } }, { term: { direction: "INBOUND" } }]),
      1,
      0,
    );
    return { thread: toSnapshot(thread), message: latest.results[0] ? toSnapshot(latest.results[0]) : null };
  }
  return null;
}

export interface OutboundMessage {
  /** The thread to add it to; null opens a new one. */
  threadId: string | null;
  inboxId: string | null;
  from?: string;
  to: Address[];
  cc?: Address[];
  subject: string;
  html?: string;
  text?: string;
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  attachments?: { file_id: string; filename: string; size: number }[];
}

/**
 * Records a sent e-mail as an OUTBOUND message (in its thread, or a new one) and optionally marks the thread
 * done. `actor` and `events` are the action's (its writes are one level deeper in the chain).
 */
export async function recordOutboundMessage(
  env: Env,
  orgId: string,
  actor: string,
  events: (part: string) => ChangeEvents,
  m: OutboundMessage,
  markDone: boolean,
): Promise<{ thread_id: string; message_id: string }> {
  const db = env.DB;
  const at = new Date().toISOString();
  let threadId = m.threadId;
  if (threadId === null) {
    const created = await createRecord(
      db,
      orgId,
      actor,
      THREAD_SCHEMA,
      { subject: m.subject, inbox_id: m.inboxId, assignees: [], status: "open", message_count: 0, last_message_at: at },
      events(":thread"),
    );
    await sendRecordEvent(created);
    threadId = created.record!._id;
  }
  const message = await createRecord(
    db,
    orgId,
    actor,
    MESSAGE_SCHEMA,
    {
      thread_id: threadId,
      inbox_id: m.inboxId,
      direction: "OUTBOUND",
      ...(m.from ? { from: { email: m.from } } : {}),
      to: m.to,
      cc: m.cc ?? [],
      subject: m.subject,
      html: m.html ?? null,
      text: m.text ?? null,
      message_id: m.messageId,
      in_reply_to: m.inReplyTo ?? null,
      references: m.references ?? [],
      attachments: m.attachments ?? [],
      sent_at: at,
    },
    events(":message"),
  );
  await sendRecordEvent(message);
  await touchThread(env, orgId, actor, threadId, at, "OUTBOUND");
  if (markDone) await setThreadFields(env, orgId, actor, threadId, { status: "done" }, events(":done"));
  return { thread_id: threadId, message_id: message.record!._id };
}

/** Writes thread attributes (inbox_id, assignees, status) with the action's record event. */
export async function setThreadFields(
  env: Env,
  orgId: string,
  actor: string,
  threadId: string,
  fields: Record<string, unknown>,
  events: ChangeEvents,
): Promise<EntitySnapshot> {
  const result = await updateRecord(env.DB, orgId, actor, THREAD_SCHEMA, threadId, fields, events);
  await sendRecordEvent(result);
  return result.record!;
}
