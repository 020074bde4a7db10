import { z } from "zod";
import { threadContextOf, type ThreadContext } from "../services/email-threads";
import { attachmentFiles, plannedEmailEffect, sendEmailThroughConnection, type AttachmentSpec } from "./email-delivery";
import {
  emailHeaders,
  inboxAddress,
  outboundMessageId,
  recordSent,
  renderTemplateFor,
  replyHeaders,
  senderOf,
} from "./email-thread-support";
import { SendEmailActionConfig, emailParams, entityEmail } from "./send-email";
import { defineAction, permanentFailure, type ActionContext, type ActionResult, isResult } from "./types";

/**
 * epilot's send-email (docs/platform.md): `email_template_id` names an e-mail template, rendered in
 * `language_code` over the execution's context; without one, our `subject`/`body`/`html`/`text` (or a provider
 * template, `template`) are sent. `to` defaults to the record's email; `reply_to_sender` answers the sender of the
 * received e-mail the execution runs on, in its thread (`reply_mode`). `attachments` picks files. The sent e-mail
 * is recorded as a message in a thread unless `skip_creating_entities`; `mark_as_done` (default true) marks a
 * replied thread done. `notify_portal_user_only`: this engine has no portal users, so nothing is sent (as epilot
 * does for an address without a portal user). `wait_for_confirmation` pauses after sending.
 */

const EpilotSendEmailConfig = SendEmailActionConfig.extend({
  email_template_id: z.string().optional(),
  language_code: z.enum(["de", "en"]).optional(),
  attachments: z.array(z.looseObject({ file_id: z.string().optional(), source_filter: z.looseObject({}).optional() })).optional(),
  reply_to_sender: z.boolean().default(false),
  reply_mode: z.enum(["reply_in_thread", "new_email"]).default("reply_in_thread"),
  skip_creating_entities: z.boolean().default(false),
  mark_as_done: z.boolean().default(true),
  notify_portal_user_only: z.boolean().default(false),
});
type Config = z.output<typeof EpilotSendEmailConfig>;

/** Subject and body: the e-mail template's, or the config's own. */
async function content(
  ctx: ActionContext,
  cfg: Config,
  to: string | string[],
  tc: ThreadContext | null,
): Promise<Record<string, unknown> | ActionResult> {
  if (!cfg.email_template_id) return emailParams(ctx, { ...cfg, to });
  const extra = tc ? { thread: tc.thread, message: tc.message } : {};
  const rendered = await renderTemplateFor(ctx, cfg.email_template_id, cfg.language_code, { ...extra, data: cfg.data ?? {} });
  if (isResult(rendered)) return rendered;
  const { cc, bcc, from, reply_to } = cfg;
  return { subject: rendered.subject, html: rendered.html, language: rendered.language, cc, bcc, from, reply_to };
}

export const epilotSendEmailAction = defineAction({
  types: ["send-email"],
  config: EpilotSendEmailConfig,
  async run(ctx, cfg) {
    if (cfg.notify_portal_user_only) {
      return {
        kind: "success",
        outputs: { sent: false, reason: "There are no registered portal users for the given emails, hence skipping the action" },
      };
    }
    const tc = cfg.reply_to_sender ? await threadContextOf(ctx.env, ctx.orgId, ctx.entity) : null;
    const sender = tc?.message ? senderOf(tc.message) : undefined;
    if (cfg.reply_to_sender && (!tc || !sender)) {
      return permanentFailure(
        "BAD_CONFIG",
        "reply_to_sender needs a received e-mail (a received_email or new_email_thread execution)",
      );
    }
    const to = sender ? sender.email : (cfg.to ?? entityEmail(ctx.entity));
    if (!to) return permanentFailure("BAD_CONFIG", "send-email needs `to` (or a triggering record with an email)");
    const body = await content(ctx, cfg, to, tc);
    if (isResult(body)) return body;
    const files = await attachmentFiles(ctx, cfg.attachments as AttachmentSpec[] | undefined);
    if (isResult(files)) return files;
    const inThread = tc !== null && cfg.reply_mode === "reply_in_thread";
    const reply = inThread && tc.message ? replyHeaders(tc.message) : {};
    const messageId = await outboundMessageId(ctx);
    const replyTo = tc ? await inboxAddress(ctx, tc.thread.inbox_id) : undefined;
    const { language, ...message } = body as Record<string, unknown> & { language?: string };
    const params = {
      ...message,
      to,
      ...(replyTo && !cfg.reply_to ? { reply_to: replyTo } : {}),
      headers: emailHeaders(messageId, reply),
    };
    const result = await sendEmailThroughConnection(ctx, params, files, cfg.connection_id);
    if (result.kind !== "success") return result;
    const outputs: Record<string, unknown> = {
      ...result.outputs,
      to,
      email_message_id: messageId,
      ...(language ? { language } : {}),
    };
    if (!cfg.skip_creating_entities) {
      const recipients = (Array.isArray(to) ? to : [to]).map((email) => ({ email }));
      Object.assign(
        outputs,
        await recordSent(
          ctx,
          {
            threadId: inThread ? tc.thread._id : null,
            inboxId: typeof tc?.thread.inbox_id === "string" ? tc.thread.inbox_id : null,
            to: recipients,
            subject: String(message.subject ?? ""),
            html: typeof message.html === "string" ? message.html : undefined,
            text: typeof message.text === "string" ? message.text : undefined,
            messageId,
            ...reply,
            attachments: files.map((f) => ({ file_id: f.id, filename: f.filename, size: f.size })),
          },
          inThread && cfg.mark_as_done,
        ),
      );
    }
    if (!cfg.wait_for_confirmation) return { ...result, outputs };
    const token = await ctx.issueResumeToken();
    // The token itself is shown only by getExecution (`resume_token`, to who may resume); outputs keep no copy.
    return { ...result, kind: "paused", token_hash: token.hash, outputs: { ...outputs, waiting_for_confirmation: true } };
  },
  effects: (ctx, cfg) => (cfg.notify_portal_user_only ? [] : plannedEmailEffect(ctx, cfg.connection_id)),
});
