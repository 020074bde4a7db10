import { z } from "zod";
import { AppError, notFound } from "../lib/errors";
import { listProviders } from "../providers/registry";
import { requireProvider } from "../services/connections";
import { parseParams, requireAction, type PreparedCall } from "../services/integrations";
import { connectionSummaries, getConnectionRow } from "../store/connections";
import type { ActionContext, EffectContext } from "./types";
import { defineAction } from "./types";
import { isOutcome, outcomeToResult, providerEffect, runPrepared } from "./integration";

/**
 * Coherence's `send_email` and epilot's `send-email`, sent through the org's e-mail connection (a provider of
 * category `email`, whose `send_email` action takes the Resend-shaped params). `to` defaults to the triggering
 * record's email; `template`/`email_template_id` + `data` use a stored template of the e-mail provider. With
 * `wait_for_confirmation` the execution pauses after sending until its resume token is used.
 */

const Addresses = z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]);

const SendEmailActionConfig = z.looseObject({
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
  email_template_id: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  wait_for_confirmation: z.boolean().optional(),
  connection_id: z.string().min(1).optional(),
});
type SendEmailActionConfig = z.output<typeof SendEmailActionConfig>;

const emailPlatforms = () =>
  listProviders()
    .filter((p) => p.category === "email")
    .map((p) => p.platform);

/** The record's email: a plain string attribute, or epilot's `email: [{email}]`. */
function entityEmail(entity: Record<string, unknown> | null): string | undefined {
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

function emailParams(ctx: Pick<ActionContext, "entity">, cfg: SendEmailActionConfig): Record<string, unknown> {
  const to = cfg.to ?? entityEmail(ctx.entity);
  if (!to) throw new AppError(400, "BAD_CONFIG", "send-email needs `to` (or a triggering record with an email)");
  const template = cfg.template ?? cfg.email_template_id;
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

async function prepareEmail(
  ctx: Pick<EffectContext, "env" | "orgId" | "entity">,
  cfg: SendEmailActionConfig,
): Promise<PreparedCall> {
  const platforms = emailPlatforms();
  let connection;
  if (cfg.connection_id) {
    connection = await getConnectionRow(ctx.env.DB, ctx.orgId, cfg.connection_id);
    if (!connection) throw notFound("Connection");
    if (!platforms.includes(connection.platform)) {
      throw new AppError(
        400,
        "CONNECTION_PLATFORM_MISMATCH",
        `Connection ${cfg.connection_id} is not an e-mail connection (${connection.platform})`,
      );
    }
  } else {
    const candidates = (await connectionSummaries(ctx.env.DB, ctx.orgId)).filter((c) => platforms.includes(c.platform));
    if (candidates.length === 0)
      throw new AppError(
        400,
        "NO_CONNECTION",
        `E-mail is not configured: no e-mail connection (${platforms.join(", ")}); create one with POST /v1/connections`,
      );
    if (candidates.length > 1)
      throw new AppError(400, "CONNECTION_REQUIRED", "Several e-mail connections exist: set config.connection_id");
    connection = (await getConnectionRow(ctx.env.DB, ctx.orgId, candidates[0].id))!;
  }
  const provider = requireProvider(connection.platform);
  const action = requireAction(provider, "send_email");
  return { provider, actionName: "send_email", action, params: parseParams(action, emailParams(ctx, cfg), "config"), connection };
}

export const sendEmailAction = defineAction({
  types: ["send-email", "send_email"],
  config: SendEmailActionConfig,
  async run(ctx, cfg) {
    const result = await runPrepared(ctx, () => prepareEmail(ctx, cfg));
    if (!isOutcome(result)) return result;
    const done = outcomeToResult(result);
    if (done.kind !== "success" || !cfg.wait_for_confirmation) return done;
    const token = await ctx.issueResumeToken();
    // The token itself is shown only by getExecution (`resume_token`, to who may resume); outputs keep no copy.
    return { ...done, kind: "paused", token_hash: token.hash, outputs: { ...done.outputs, waiting_for_confirmation: true } };
  },
  // Preparing picks the org's e-mail connection (a read): the provider the e-mail would go through.
  effects: async (ctx, cfg) => [providerEffect(await prepareEmail(ctx, cfg), ctx)],
});
