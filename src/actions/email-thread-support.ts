import type { EmailLanguage } from "../schemas/templates";
import { renderEmailTemplate, type RenderedEmail } from "../services/email-templates";
import {
  recordOutboundMessage,
  THREAD_SCHEMA,
  threadContextOf,
  type Address,
  type OutboundMessage,
  type ThreadContext,
} from "../services/email-threads";
import { deterministicId } from "../services/executions";
import { recordChangeEvents } from "../services/record-events";
import { EMAIL_TEMPLATES, INBOXES, getResource } from "../store/platform-resources";
import { TemplateError } from "../engine/templates";
import type { SideEffect } from "../engine/reruns/side-effects";
import { automationActor, automationEvent, recordEffect } from "./records";
import { permanentFailure, type ActionContext, type ActionResult, type EffectContext } from "./types";

/**
 * What the e-mail actions on threads share (send-email's replies, reply-email, forward-email, move-thread,
 * assign-thread): finding the thread of the execution's entity, rendering an e-mail template, the threading
 * headers of a reply, and recording a sent e-mail in its thread.
 */

/** The thread and message of the execution's entity, or a failure saying the action needs one. */
export async function requireThread(ctx: ActionContext, type: string): Promise<ThreadContext | ActionResult> {
  const tc = await threadContextOf(ctx.env, ctx.orgId, ctx.entity);
  if (tc) return tc;
  return permanentFailure(
    "ENTITY_NOT_FOUND",
    `${type} runs on an e-mail thread or message (a received_email or new_email_thread execution); this execution's entity is ${
      typeof ctx.entity?._schema === "string" ? `a ${ctx.entity._schema} record` : "not a record"
    }`,
  );
}

/** Renders the e-mail template `id` over the action's context (plus `extra` roots), or a clear failure. */
export async function renderTemplateFor(
  ctx: ActionContext,
  id: string,
  language: EmailLanguage | undefined,
  extra: Record<string, unknown> = {},
): Promise<RenderedEmail | ActionResult> {
  const row = await getResource(ctx.env.DB, EMAIL_TEMPLATES, ctx.orgId, id);
  if (!row) {
    return permanentFailure("BAD_CONFIG", `E-mail template ${id} does not exist (deleted after the flow was saved?)`, {
      code: "EMAIL_TEMPLATE_NOT_FOUND",
      email_template_id: id,
    });
  }
  try {
    return renderEmailTemplate(row, language, { ...ctx.templateContext(), ...extra });
  } catch (err) {
    if (err instanceof TemplateError) return permanentFailure("TEMPLATE_ERROR", `E-mail template ${id}: ${err.message}`);
    throw err;
  }
}

/** The inbox's address (replies go to it) when the thread is in an inbox that has one. */
export async function inboxAddress(ctx: ActionContext, inboxId: unknown): Promise<string | undefined> {
  if (typeof inboxId !== "string") return undefined;
  return (await getResource(ctx.env.DB, INBOXES, ctx.orgId, inboxId))?.address ?? undefined;
}

/** The Message-ID of the e-mail this action sends: the same for every attempt. */
export async function outboundMessageId(ctx: ActionContext): Promise<string> {
  return `<${await deterministicId(ctx.orgId, ctx.idempotencyKey, "email")}@automation-engine>`;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** In-Reply-To and References of a reply to `message` (none when it has no Message-ID). */
export function replyHeaders(message: Record<string, unknown>): { inReplyTo?: string; references?: string[] } {
  const id = str(message.message_id);
  if (!id) return {};
  const refs = Array.isArray(message.references) ? message.references.filter((r): r is string => typeof r === "string") : [];
  return { inReplyTo: id, references: [...refs, id] };
}

export function emailHeaders(messageId: string, reply: { inReplyTo?: string; references?: string[] }): Record<string, string> {
  return {
    "Message-ID": messageId,
    ...(reply.inReplyTo ? { "In-Reply-To": reply.inReplyTo } : {}),
    ...(reply.references?.length ? { References: reply.references.join(" ") } : {}),
  };
}

/** The sender of a stored message. */
export function senderOf(message: Record<string, unknown>): Address | undefined {
  const from = message.from as { email?: unknown; name?: unknown } | undefined;
  return typeof from?.email === "string"
    ? { email: from.email, ...(typeof from.name === "string" ? { name: from.name } : {}) }
    : undefined;
}

/** Records the sent e-mail in its thread as the action (records one level deeper in the chain). */
export function recordSent(ctx: ActionContext, m: OutboundMessage, markDone: boolean) {
  return recordOutboundMessage(
    ctx.env,
    ctx.orgId,
    automationActor(ctx),
    (part) => recordChangeEvents(ctx.env, automationEvent(ctx, part)),
    m,
    markDone,
  );
}

/** The thread record an action updates (move-thread, assign-thread). */
export const threadEffect = (ctx: Pick<EffectContext, "idempotencyKey">, threadId: string): SideEffect => ({
  ...recordEffect(ctx, `${THREAD_SCHEMA}/${threadId}`, "updated", threadId),
  outcome: "ok",
});

/** The thread a run would update: the execution's (a read; none when it runs on no thread, as the run then fails). */
export async function plannedThreadEffect(ctx: EffectContext): Promise<SideEffect[]> {
  const tc = await threadContextOf(ctx.env, ctx.orgId, ctx.entity);
  return tc ? [recordEffect(ctx, `${THREAD_SCHEMA}/${tc.thread._id}`, "update")] : [];
}
