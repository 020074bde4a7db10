import { z } from "zod";
import {
  BaseUrlField,
  SecretString,
  defineProvider,
  httpFailure,
  obj,
  providerAction,
  str,
  type ProviderResult,
  type VendorResponse,
} from "./types";

/** HubSpot CRM v3 with a private-app access token: look up, create and update contacts. */

const HubSpotConfig = z.strictObject({
  access_token: SecretString("Private app access token (pat-…)"),
  base_url: BaseUrlField,
});
type HubSpotConfig = z.output<typeof HubSpotConfig>;

const ContactResult = z.object({
  id: z.string(),
  properties: z.record(z.string(), z.unknown()),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
});

const Properties = z.record(z.string().min(1).max(200), z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()]));

/** HubSpot errors are `{status:"error", message, category}`; an expired OAuth token says so in `category`/message. */
function hubspotResult(res: VendorResponse, now: number): ProviderResult<z.output<typeof ContactResult>> {
  const body = obj(res.body);
  if (res.ok) {
    return {
      success: true,
      status: res.status,
      data: {
        id: str(body, "id") ?? "",
        properties: obj(body.properties),
        createdAt: str(body, "createdAt"),
        updatedAt: str(body, "updatedAt"),
      },
    };
  }
  const message = str(body, "message") ?? `HubSpot answered HTTP ${res.status}`;
  const category = str(body, "category");
  const expired = res.status === 401 && (category === "EXPIRED_AUTHENTICATION" || /expired/i.test(message));
  return httpFailure(res, message, { now, vendor_code: category, ...(expired ? { kind: "expired" as const } : {}) });
}

const auth = (c: HubSpotConfig) => ({ authorization: `Bearer ${c.access_token}` });
const action = providerAction<HubSpotConfig>();

const createContact = action({
  title: "Create a HubSpot contact",
  effect: "write",
  description: "Creates a contact (POST /crm/v3/objects/contacts).",
  params: z.strictObject({
    email: z.string().email().max(320),
    firstname: z.string().max(500).optional(),
    lastname: z.string().max(500).optional(),
    phone: z.string().max(100).optional(),
    company: z.string().max(500).optional(),
    properties: Properties.optional().describe("Further contact properties by internal name"),
  }),
  result: ContactResult,
  async run(ctx, p) {
    const { properties, ...named } = p;
    const res = await ctx.request({
      method: "POST",
      path: "/crm/v3/objects/contacts",
      headers: auth(ctx.config),
      json: { properties: { ...properties, ...Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined)) } },
    });
    return hubspotResult(res, ctx.now);
  },
});

const updateContact = action({
  title: "Update a HubSpot contact",
  effect: "write",
  description: "Updates a contact by id, or by email with id_property=email (PATCH /crm/v3/objects/contacts/{id}).",
  params: z.strictObject({
    contact_id: z.string().min(1).max(320).describe("The contact's id (or its email when id_property is email)"),
    id_property: z.enum(["hs_object_id", "email"]).optional(),
    properties: Properties.refine((p) => Object.keys(p).length > 0, "at least one property"),
  }),
  result: ContactResult,
  async run(ctx, p) {
    const res = await ctx.request({
      method: "PATCH",
      path: `/crm/v3/objects/contacts/${encodeURIComponent(p.contact_id)}`,
      query: { idProperty: p.id_property === "email" ? "email" : undefined },
      headers: auth(ctx.config),
      json: { properties: p.properties },
    });
    return hubspotResult(res, ctx.now);
  },
});

const getContact = action({
  title: "Look up a HubSpot contact",
  effect: "read",
  description: "Reads a contact by id, or by email with id_property=email (GET /crm/v3/objects/contacts/{id}).",
  params: z.strictObject({
    contact_id: z.string().min(1).max(320).describe("The contact's id (or its email when id_property is email)"),
    id_property: z.enum(["hs_object_id", "email"]).optional(),
    properties: z.array(z.string().min(1).max(200)).max(50).optional().describe("Properties to return (default: HubSpot's)"),
  }),
  result: ContactResult,
  async run(ctx, p) {
    const res = await ctx.request({
      method: "GET",
      path: `/crm/v3/objects/contacts/${encodeURIComponent(p.contact_id)}`,
      query: {
        idProperty: p.id_property === "email" ? "email" : undefined,
        properties: p.properties?.length ? p.properties.join(",") : undefined,
      },
      headers: auth(ctx.config),
    });
    return hubspotResult(res, ctx.now);
  },
});

export const hubspotProvider = defineProvider({
  platform: "hubspot",
  title: "HubSpot",
  description: "Look up, create and update HubSpot CRM contacts.",
  category: "crm",
  docs_url: "https://developers.hubspot.com/docs/api/crm/contacts",
  config: HubSpotConfig,
  secretFields: ["access_token"],
  apiRoot: () => "https://api.hubapi.com",
  actions: { get_contact: getContact, create_contact: createContact, update_contact: updateContact },
  async authCheck(ctx) {
    const res = await ctx.request({ method: "GET", path: "/account-info/v3/details", headers: auth(ctx.config) });
    if (res.ok) {
      const b = obj(res.body);
      return { success: true, status: res.status, data: { portal_id: b.portalId, account_type: b.accountType } };
    }
    const failed = hubspotResult(res, ctx.now);
    return failed.success ? { success: true, data: {} } : failed;
  },
});
