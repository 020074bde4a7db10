import { z } from "zod";
import { getFileRows } from "../store/files";
import { plannedEmailEffect, sendEmailThroughConnection } from "./email-delivery";
import { emailHeaders, outboundMessageId, recordSent, requireThread, senderOf } from "./email-thread-support";
import { defineAction, permanentFailure, isResult } from "./types";

/**
 * epilot's forward-email: the execution's received e-mail forwarded to `forward_to` through the e-mail connection,
 * its subject prefixed (`subject_prefix`, default "Fwd: "), the original below a forwarding header, with its
 * attachments unless `include_attachments` is false. Recorded in the thread; `mark_as_done` marks it done.
 */

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const str = (v: unknown) => (typeof v === "string" ? v : "");
const addresses = (v: unknown) =>
  Array.isArray(v)
    ? v
        .map((a) => str((a as { email?: unknown }).email))
        .filter(Boolean)
        .join(", ")
    : "";

export const forwardEmailAction = defineAction({
  types: ["forward-email"],
  config: z.looseObject({
    forward_to: z.array(z.looseObject({ email: z.string().email(), name: z.string().optional() })).min(1),
    include_attachments: z.boolean().default(true),
    subject_prefix: z.string().default("Fwd: "),
    mark_as_done: z.boolean().default(false),
    connection_id: z.string().min(1).optional(),
  }),
  async run(ctx, cfg) {
    const tc = await requireThread(ctx, "forward-email");
    if (isResult(tc)) return tc;
    const message = tc.message;
    if (!message) return permanentFailure("ENTITY_NOT_FOUND", `Thread ${tc.thread._id} has no received e-mail to forward`);
    const original = {
      from: senderOf(message)?.email ?? "",
      date: str(message.sent_at),
      subject: str(message.subject),
      to: addresses(message.to),
    };
    const head = [
      "---------- Forwarded message ---------",
      `From: ${original.from}`,
      `Date: ${original.date}`,
      `Subject: ${original.subject}`,
      `To: ${original.to}`,
    ];
    const text = `${head.join("\n")}\n\n${str(message.text)}`;
    const html = `<p>${head.map(escapeHtml).join("<br>")}</p>${str(message.html) || `<pre>${escapeHtml(str(message.text))}</pre>`}`;
    const attached = Array.isArray(message.attachments) ? message.attachments : [];
    const fileIds = attached.map((a) => str((a as { file_id?: unknown }).file_id)).filter(Boolean);
    const files = cfg.include_attachments ? await getFileRows(ctx.env.DB, ctx.orgId, fileIds) : [];
    const subject = `${cfg.subject_prefix}${original.subject}`;
    const messageId = await outboundMessageId(ctx);
    const to = cfg.forward_to.map((r) => ({ email: r.email, ...(r.name ? { name: r.name } : {}) }));
    const result = await sendEmailThroughConnection(
      ctx,
      { to: to.map((r) => r.email), subject, html, text, headers: emailHeaders(messageId, {}) },
      files,
      cfg.connection_id,
    );
    if (result.kind !== "success") return result;
    const recorded = await recordSent(
      ctx,
      {
        threadId: tc.thread._id,
        inboxId: typeof tc.thread.inbox_id === "string" ? tc.thread.inbox_id : null,
        to,
        subject,
        html,
        text,
        messageId,
        attachments: files.map((f) => ({ file_id: f.id, filename: f.filename, size: f.size })),
      },
      cfg.mark_as_done,
    );
    return {
      ...result,
      outputs: { ...result.outputs, forwarded_to: to.map((r) => r.email), email_message_id: messageId, ...recorded },
    };
  },
  effects: (ctx, cfg) => plannedEmailEffect(ctx, cfg.connection_id),
});
