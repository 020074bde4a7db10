import { z } from "zod";
import { AppError } from "../lib/errors";
import { plannedEmailEffect, prepareEmail } from "./email-delivery";
import type { ActionContext } from "./types";
import { defineAction } from "./types";
import { isOutcome, outcomeToResult, runPrepared } from "./integration";

/**
 * Coherence's `send_email`, sent through the org's e-mail connection (a provider of category `email`, whose
 * `send_email` action takes the Resend-shaped params). `to` defaults to the triggering record's email;
 * `template` + `data` use a stored template of the e-mail provider. With `wait_for_confirmation` the execution
 * pauses after sending until its resume token is used. epilot's `send-email` (actions/epilot-send-email.ts)
 * shares the params; its `email_template_id` names an e-mail template of this engine.
 */

const Addresses = z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]);

export const SendEmailActionConfig = z.looseObject({
  to: Addresses.optional(),
  cc: Addresses.optional(),
  bcc: Addresses.optional(),
  from: z.string().optional(),
  reply_to: z.string().optional(),
  subject: z.string().optional(),
  body: z.string().optional(),
  html: z.string().optional(),
  text: z.string().optional(),
  template: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  wait_for_confirmation: z.boolean().optional(),
  connection_id: z.string().min(1).optional(),
});
export type SendEmailActionConfig = z.output<typeof SendEmailActionConfig>;

/** The record's email: a plain string attribute, or epilot's `email: [{email}]`. */
export function entityEmail(entity: Record<string, unknown> | null): string | undefined {
  const v = entity?.email;
  if (typeof v === "string" && v) return v;
  if (Array.isArray(v)) {
    const first = v[0] as { email?: unknown } | string | undefined;
    if (typeof first === "string") return first;
    if (first && typeof first.email === "string") return first.email;
  }
  return undefined;
}

const looksLikeHtml = (s: string) => /<\/?[a-z][\s\S]*>/i.test(s);

export function emailParams(ctx: ActionContext, cfg: SendEmailActionConfig): Record<string, unknown> {
  const to = cfg.to ?? entityEmail(ctx.entity);
  if (!to) throw new AppError(400, "BAD_CONFIG", "send-email needs `to` (or a triggering record with an email)");
  const template = cfg.template;
  const variables = cfg.data
    ? Object.fromEntries(
        Object.entries(cfg.data).map(([k, v]) => [k, typeof v === "number" || typeof v === "string" ? v : JSON.stringify(v)]),
      )
    : undefined;
  const html = cfg.html ?? (cfg.body !== undefined && looksLikeHtml(cfg.body) ? cfg.body : undefined);
  const text = cfg.text ?? (cfg.body !== undefined && !looksLikeHtml(cfg.body) ? cfg.body : undefined);
  const params: Record<string, unknown> = {
    to,
    subject: cfg.subject,
    html,
    text,
    from: cfg.from,
    cc: cfg.cc,
    bcc: cfg.bcc,
    reply_to: cfg.reply_to,
  };
  if (template) Object.assign(params, { template_id: template, variables });
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}

export const sendEmailAction = defineAction({
  types: ["send_email"],
  config: SendEmailActionConfig,
  async run(ctx, cfg) {
    const result = await runPrepared(ctx, async () => prepareEmail(ctx, emailParams(ctx, cfg), cfg.connection_id));
    if (!isOutcome(result)) return result;
    const done = outcomeToResult(result);
    if (done.kind !== "success" || !cfg.wait_for_confirmation) return done;
    const token = await ctx.issueResumeToken();
    // The token itself is shown only by getExecution (`resume_token`, to who may resume); outputs keep no copy.
    return { ...done, kind: "paused", token_hash: token.hash, outputs: { ...done.outputs, waiting_for_confirmation: true } };
  },
  effects: (ctx, cfg) => plannedEmailEffect(ctx, cfg.connection_id),
});
