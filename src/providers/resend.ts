import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { BaseUrlField, SecretString, defineProvider, httpFailure, obj, providerAction, str, type VendorResponse } from "./types";

/**
 * E-mail through Resend (POST /emails). Chosen because it is one JSON call with a bearer key, it honours the
 * `Idempotency-Key` header for 24 hours (the engine's stable `<execution>:<action>` key makes a retried attempt
 * send nothing twice), and it renders stored templates by id with variables (Coherence's `template` + `data`).
 */

const ResendConfig = z.strictObject({
  api_key: SecretString("Resend API key (re_…)"),
  from: z.string().min(3).max(500).describe('Default sender, e.g. "Acme <noreply@acme.com>" (a verified domain)'),
  reply_to: z.string().email().optional(),
  base_url: BaseUrlField,
});
type ResendConfig = z.output<typeof ResendConfig>;

const Addresses = z.union([z.string().email(), z.array(z.string().email()).min(1).max(50)]);

/** Resend errors are `{statusCode, name, message}`. */
function resendFailure(res: VendorResponse, now: number) {
  const b = obj(res.body);
  return httpFailure(res, str(b, "message") ?? `Resend answered HTTP ${res.status}`, { now, vendor_code: str(b, "name") });
}

const auth = (c: ResendConfig) => ({ authorization: `Bearer ${c.api_key}` });
const action = providerAction<ResendConfig>();

export const SendEmailParams = z
  .strictObject({
    to: Addresses,
    subject: z.string().min(1).max(1000).optional(),
    html: z.string().max(500_000).optional(),
    text: z.string().max(500_000).optional(),
    from: z.string().min(3).max(500).optional().describe("Overrides the connection's sender"),
    cc: Addresses.optional(),
    bcc: Addresses.optional(),
    reply_to: z.string().email().optional(),
    template_id: z.string().min(1).max(200).optional().describe("A published Resend template (id or alias)"),
    variables: z
      .record(z.string(), z.union([z.string(), z.number()]))
      .optional()
      .describe("Template variables"),
    headers: z
      .record(z.string().min(1).max(200), z.string().max(2000))
      .optional()
      .describe("Extra e-mail headers (Message-ID, In-Reply-To, References)"),
    attachments: z
      .array(
        z.strictObject({
          filename: z.string().min(1).max(255),
          content: z.string().describe("The file, base64"),
          content_type: z.string().max(200).optional(),
        }),
      )
      .max(LIMITS.MAX_EMAIL_ATTACHMENTS)
      .optional(),
  })
  .refine((p) => p.template_id !== undefined || ((p.html !== undefined || p.text !== undefined) && p.subject !== undefined), {
    message: "needs subject with html or text, or a template_id",
    path: ["html"],
  });

const sendEmail = action({
  title: "Send an e-mail",
  effect: "write",
  description: "Sends one e-mail through Resend, idempotently per action attempt key.",
  idempotent: true,
  params: SendEmailParams,
  result: z.object({ id: z.string() }),
  async run(ctx, p) {
    const res = await ctx.request({
      method: "POST",
      path: "/emails",
      headers: auth(ctx.config),
      idempotent: true,
      json: {
        from: p.from ?? ctx.config.from,
        to: p.to,
        subject: p.subject,
        html: p.html,
        text: p.text,
        cc: p.cc,
        bcc: p.bcc,
        reply_to: p.reply_to ?? ctx.config.reply_to,
        ...(p.template_id ? { template: { id: p.template_id, variables: p.variables ?? {} } } : {}),
        ...(p.headers ? { headers: p.headers } : {}),
        ...(p.attachments ? { attachments: p.attachments } : {}),
      },
    });
    if (!res.ok) return resendFailure(res, ctx.now);
    return { success: true, status: res.status, data: { id: str(res.body, "id") ?? "" } };
  },
});

export const resendProvider = defineProvider({
  platform: "resend",
  title: "E-mail (Resend)",
  description: "Send transactional e-mail through the Resend API.",
  category: "email",
  docs_url: "https://resend.com/docs/api-reference/emails/send-email",
  config: ResendConfig,
  secretFields: ["api_key"],
  apiRoot: () => "https://api.resend.com",
  actions: { send_email: sendEmail },
  async authCheck(ctx) {
    const res = await ctx.request({ method: "GET", path: "/domains", headers: auth(ctx.config) });
    // A sending-only key cannot list domains, but Resend recognised it: the key is valid for sending.
    if (res.status === 401 && str(res.body, "name") === "restricted_api_key") {
      return { success: true, status: res.status, data: { restricted: true } };
    }
    if (!res.ok) return resendFailure(res, ctx.now);
    const domains = obj(res.body).data;
    return {
      success: true,
      status: res.status,
      data: { restricted: false, domains: Array.isArray(domains) ? domains.length : 0 },
    };
  },
});
