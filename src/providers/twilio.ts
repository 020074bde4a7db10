import { z } from "zod";
import { BaseUrlField, SecretString, defineProvider, httpFailure, obj, providerAction, str, type VendorResponse } from "./types";

/** Twilio Programmable Messaging: SMS with the account SID and auth token (HTTP Basic), form-encoded. */

const TwilioConfig = z
  .strictObject({
    account_sid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be an Account SID (AC + 32 hex characters)"),
    auth_token: SecretString("Auth token of the account"),
    from: z.string().min(2).max(50).optional().describe("Default sender number (E.164) or alphanumeric id"),
    messaging_service_sid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/)
      .optional()
      .describe("Send through a Messaging Service instead"),
    base_url: BaseUrlField,
  })
  .refine((c) => c.from !== undefined || c.messaging_service_sid !== undefined, {
    message: "needs from or messaging_service_sid",
    path: ["from"],
  });
type TwilioConfig = z.output<typeof TwilioConfig>;

const E164 = z.string().regex(/^\+[1-9]\d{1,14}$/, "must be an E.164 phone number (+15551234567)");

/** Twilio errors are `{code, message, more_info, status}`; 20003 is a refused credential. */
function twilioFailure(res: VendorResponse, now: number) {
  const b = obj(res.body);
  const code = typeof b.code === "number" ? b.code : undefined;
  return httpFailure(res, str(b, "message") ?? `Twilio answered HTTP ${res.status}`, {
    now,
    vendor_code: code,
    ...(code === 20003 ? { kind: "auth" as const } : {}),
  });
}

const auth = (c: TwilioConfig) => ({ authorization: `Basic ${btoa(`${c.account_sid}:${c.auth_token}`)}` });
const action = providerAction<TwilioConfig>();

const sendSms = action({
  title: "Send an SMS",
  effect: "write",
  description: "Sends a text message (POST /2010-04-01/Accounts/{AccountSid}/Messages.json).",
  params: z.strictObject({
    to: E164,
    body: z.string().min(1).max(1600),
    from: z.string().min(2).max(50).optional().describe("Overrides the connection's sender"),
  }),
  result: z.object({ sid: z.string(), status: z.string().optional() }),
  async run(ctx, p) {
    const useService = !p.from && ctx.config.messaging_service_sid;
    const res = await ctx.request({
      method: "POST",
      path: `/2010-04-01/Accounts/${ctx.config.account_sid}/Messages.json`,
      headers: auth(ctx.config),
      form: {
        To: p.to,
        Body: p.body,
        From: useService ? undefined : (p.from ?? ctx.config.from),
        MessagingServiceSid: useService ? ctx.config.messaging_service_sid : undefined,
      },
    });
    if (!res.ok) return twilioFailure(res, ctx.now);
    const b = obj(res.body);
    return { success: true, status: res.status, data: { sid: str(b, "sid") ?? "", status: str(b, "status") } };
  },
});

export const twilioProvider = defineProvider({
  platform: "twilio",
  title: "Twilio SMS",
  description: "Send SMS through Twilio.",
  category: "sms",
  docs_url: "https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource",
  config: TwilioConfig,
  secretFields: ["auth_token"],
  apiRoot: () => "https://api.twilio.com",
  actions: { send_sms: sendSms },
  async authCheck(ctx) {
    const res = await ctx.request({
      method: "GET",
      path: `/2010-04-01/Accounts/${ctx.config.account_sid}.json`,
      headers: auth(ctx.config),
    });
    if (!res.ok) return twilioFailure(res, ctx.now);
    const b = obj(res.body);
    return { success: true, status: res.status, data: { friendly_name: b.friendly_name, status: b.status } };
  },
});
