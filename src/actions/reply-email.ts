import { z } from "zod";
import { plannedEmailEffect, sendEmailThroughConnection } from "./email-delivery";
import {
  emailHeaders,
  inboxAddress,
  outboundMessageId,
  recordSent,
  renderTemplateFor,
  replyHeaders,
  requireThread,
  senderOf,
} from "./email-thread-support";
import { defineAction, permanentFailure, isResult } from "./types";

/**
 * epilot's reply-email: answers the execution's received e-mail with the e-mail template `email_template_id`
 * (in `language_code`) through the e-mail connection. `reply_in_thread` (default) sends it as a reply
 * (In-Reply-To, References) and records it in the thread; `new_email` sends a standalone e-mail to the sender,
 * recorded in a new thread. `mark_as_done` marks the thread done.
 */
export const replyEmailAction = defineAction({
  types: ["reply-email"],
  config: z.looseObject({
    email_template_id: z.string().optional(),
    language_code: z.enum(["de", "en"]).optional(),
    reply_mode: z.enum(["reply_in_thread", "new_email"]).default("reply_in_thread"),
    mark_as_done: z.boolean().default(false),
    connection_id: z.string().min(1).optional(),
  }),
  async run(ctx, cfg) {
    if (!cfg.email_template_id) return permanentFailure("BAD_CONFIG", "reply-email needs config.email_template_id");
    const tc = await requireThread(ctx, "reply-email");
    if (isResult(tc)) return tc;
    const message = tc.message;
    const sender = message ? senderOf(message) : undefined;
    if (!message || !sender)
      return permanentFailure("ENTITY_NOT_FOUND", `Thread ${tc.thread._id} has no received e-mail to reply to`);
    const rendered = await renderTemplateFor(ctx, cfg.email_template_id, cfg.language_code, { thread: tc.thread, message });
    if (isResult(rendered)) return rendered;
    const inThread = cfg.reply_mode === "reply_in_thread";
    const reply = inThread ? replyHeaders(message) : {};
    const messageId = await outboundMessageId(ctx);
    const replyTo = await inboxAddress(ctx, tc.thread.inbox_id);
    const result = await sendEmailThroughConnection(
      ctx,
      {
        to: sender.email,
        subject: rendered.subject,
        html: rendered.html,
        ...(replyTo ? { reply_to: replyTo } : {}),
        headers: emailHeaders(messageId, reply),
      },
      [],
      cfg.connection_id,
    );
    if (result.kind !== "success") return result;
    const recorded = await recordSent(
      ctx,
      {
        threadId: inThread ? tc.thread._id : null,
        inboxId: typeof tc.thread.inbox_id === "string" ? tc.thread.inbox_id : null,
        to: [sender],
        subject: rendered.subject,
        html: rendered.html,
        messageId,
        ...reply,
      },
      cfg.mark_as_done,
    );
    return {
      ...result,
      outputs: {
        ...result.outputs,
        reply_mode: cfg.reply_mode,
        language: rendered.language,
        to: sender.email,
        email_message_id: messageId,
        thread_id: recorded.thread_id,
        message_id: recorded.message_id,
      },
    };
  },
  effects: (ctx, cfg) => plannedEmailEffect(ctx, cfg.connection_id),
});
