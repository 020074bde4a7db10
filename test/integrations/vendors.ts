/**
 * Vendor-like answers of the test sink (a Worker of its own), for paths /slack, /hubspot, /gcal, /resend, /twilio, /discord,
 * /teams, /httpapi (generic HTTP). Credentials containing "bad" are refused, "expired" ones have expired; particular
 * inputs (channel "#missing", email "exists@example.com", ...) produce each vendor's real error shape.
 */

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const parse = (body: string): Record<string, any> => {
  try {
    return body ? (JSON.parse(body) as Record<string, any>) : {};
  } catch {
    return {};
  }
};

const bearer = (req: Request) => /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";

function slack(req: Request, rest: string[], body: string): Response {
  const token = bearer(req);
  if (!token) return json(200, { ok: false, error: "not_authed" });
  if (token.includes("bad")) return json(200, { ok: false, error: "invalid_auth" });
  if (token.includes("expired")) return json(200, { ok: false, error: "token_expired" });
  if (rest[0] === "auth.test")
    return json(200, { ok: true, team: "Acme", team_id: "T0001", user: "automation-bot", user_id: "U0001" });
  if (rest[0] === "chat.postMessage") {
    const b = parse(body);
    if (b.channel === "#missing") return json(200, { ok: false, error: "channel_not_found" });
    if (b.channel === "#busy") return json(429, { ok: false, error: "ratelimited" }, { "retry-after": "7" });
    return json(200, { ok: true, channel: "C0001", ts: "1700000000.000100", message: { text: b.text } });
  }
  return json(200, { ok: false, error: "unknown_method" });
}

function hubspot(req: Request, rest: string[], body: string): Response {
  const token = bearer(req);
  if (!token || token.includes("bad")) {
    return json(401, { status: "error", message: "Authentication credentials not found.", category: "INVALID_AUTHENTICATION" });
  }
  if (token.includes("expired")) {
    return json(401, {
      status: "error",
      message: "The OAuth token used to make this call expired 2 hour(s) ago.",
      category: "EXPIRED_AUTHENTICATION",
    });
  }
  const path = rest.join("/");
  if (path === "account-info/v3/details") return json(200, { portalId: 62515, accountType: "STANDARD" });
  if (path === "crm/v3/objects/contacts" && req.method === "POST") {
    const props = parse(body).properties ?? {};
    if (props.email === "exists@example.com") {
      return json(409, { status: "error", message: "Contact already exists. Existing ID: 501", category: "CONFLICT" });
    }
    return json(201, {
      id: "1001",
      properties: { ...props, hs_object_id: "1001" },
      createdAt: "2025-01-20T10:00:00.000Z",
      updatedAt: "2025-01-20T10:00:00.000Z",
      archived: false,
    });
  }
  if (rest.slice(0, 4).join("/") === "crm/v3/objects/contacts" && req.method === "GET" && rest[4]) {
    const id = decodeURIComponent(rest[4]);
    if (id === "404" || id === "nobody@example.com")
      return json(404, { status: "error", message: "resource not found", category: "OBJECT_NOT_FOUND" });
    const byEmail = new URL(req.url).searchParams.get("idProperty") === "email";
    return json(200, {
      id: byEmail ? "1001" : id,
      properties: { email: byEmail ? id : "ada@example.com", firstname: "Ada", lastname: "Lovelace", lifecyclestage: "customer" },
      updatedAt: "2025-01-20T10:00:00.000Z",
    });
  }
  if (rest.slice(0, 4).join("/") === "crm/v3/objects/contacts" && req.method === "PATCH") {
    if (rest[4] === "404") return json(404, { status: "error", message: "resource not found", category: "OBJECT_NOT_FOUND" });
    return json(200, { id: rest[4], properties: parse(body).properties ?? {}, updatedAt: "2025-01-20T10:00:00.000Z" });
  }
  return json(404, { status: "error", message: "Not found", category: "OBJECT_NOT_FOUND" });
}

function gcal(req: Request, rest: string[], body: string): Response {
  const token = bearer(req);
  if (!token || token.includes("bad") || token.includes("expired")) {
    return json(401, {
      error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" },
    });
  }
  const calendar = decodeURIComponent(rest[1] ?? "");
  if (calendar === "missing") return json(404, { error: { code: 404, message: "Not Found", status: "NOT_FOUND" } });
  if (rest[0] === "calendars" && rest.length === 2 && req.method === "GET") {
    return json(200, { id: calendar, summary: "Team calendar", timeZone: "Europe/Berlin" });
  }
  if (rest[0] === "calendars" && rest[2] === "events" && req.method === "POST") {
    const b = parse(body);
    return json(200, {
      id: "evt0001",
      status: "confirmed",
      htmlLink: "https://www.google.com/calendar/event?eid=evt0001",
      summary: b.summary,
      start: b.start,
      end: b.end,
    });
  }
  return json(404, { error: { code: 404, message: "Not Found", status: "NOT_FOUND" } });
}

function resend(req: Request, rest: string[], body: string): Response {
  const token = bearer(req);
  if (!token)
    return json(401, { statusCode: 401, name: "missing_api_key", message: "Missing API key in the authorization header" });
  if (token.includes("bad")) return json(403, { statusCode: 403, name: "invalid_api_key", message: "API key is invalid" });
  if (rest[0] === "domains") {
    if (token.includes("sendonly"))
      return json(401, {
        statusCode: 401,
        name: "restricted_api_key",
        message: "This API key is restricted to only send emails",
      });
    return json(200, { data: [{ id: "d1", name: "acme.test", status: "verified" }] });
  }
  if (rest[0] === "emails" && req.method === "POST") {
    const b = parse(body);
    const to = Array.isArray(b.to) ? b.to : [b.to];
    if (to.includes("bounce@invalid.test")) {
      return json(422, {
        statusCode: 422,
        name: "validation_error",
        message: "Invalid `to` field. The email address needs to follow the `email@example.com` format.",
      });
    }
    if (to.includes("busy@example.com"))
      return json(429, { statusCode: 429, name: "rate_limit_exceeded", message: "Too many requests" }, { "retry-after": "2" });
    return json(200, { id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" });
  }
  return json(404, { statusCode: 404, name: "not_found", message: "Not found" });
}

function twilio(req: Request, rest: string[], body: string): Response {
  const basic = /^Basic (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
  const [sid, token] = basic ? atob(basic).split(":") : ["", ""];
  if (!token || token.includes("bad")) {
    return json(401, {
      code: 20003,
      message: "Authenticate",
      more_info: "https://www.twilio.com/docs/errors/20003",
      status: 401,
    });
  }
  if (rest[2] !== sid) return json(404, { code: 20404, message: "The requested resource was not found", status: 404 });
  if (rest.length === 3 && rest[2].endsWith(".json") === false && req.method === "GET")
    return json(404, { code: 20404, message: "not found", status: 404 });
  if (rest[3] === "Messages.json" && req.method === "POST") {
    const form = new URLSearchParams(body);
    const to = form.get("To");
    if (to === "+15005550001") {
      return json(400, {
        code: 21211,
        message: `The 'To' number ${to} is not a valid phone number.`,
        more_info: "https://www.twilio.com/docs/errors/21211",
        status: 400,
      });
    }
    return json(201, {
      sid: "SM0123456789abcdef0123456789abcdef",
      status: "queued",
      to,
      from: form.get("From"),
      body: form.get("Body"),
    });
  }
  return json(404, { code: 20404, message: "not found", status: 404 });
}

function twilioAccount(req: Request, rest: string[]): Response | null {
  // GET /2010-04-01/Accounts/{sid}.json
  if (req.method === "GET" && rest.length === 3 && rest[2].endsWith(".json")) {
    const basic = /^Basic (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    const [sid, token] = basic ? atob(basic).split(":") : ["", ""];
    if (!token || token.includes("bad") || `${sid}.json` !== rest[2]) {
      return json(401, {
        code: 20003,
        message: "Authenticate",
        more_info: "https://www.twilio.com/docs/errors/20003",
        status: 401,
      });
    }
    return json(200, { sid, friendly_name: "Acme", status: "active" });
  }
  return null;
}

function discord(req: Request, rest: string[], body: string): Response {
  // /api/webhooks/{id}/{token}
  const token = rest[3] ?? "";
  if (token.includes("bad")) return json(401, { message: "Invalid Webhook Token", code: 50027 });
  if (rest[2] === "404") return json(404, { message: "Unknown Webhook", code: 10015 });
  if (req.method === "GET") return json(200, { id: rest[2], name: "Alerts", channel_id: "C77", guild_id: "G1", token });
  const b = parse(body);
  if (!b.content && !(b.embeds?.length > 0)) return json(400, { message: "Cannot send an empty message", code: 50006 });
  if (String(b.content).includes("flood"))
    return json(429, { message: "You are being rate limited.", retry_after: 1.5, global: false });
  return json(200, { id: "M9001", channel_id: "C77", content: b.content });
}

function teams(req: Request, rest: string[], body: string): Response {
  const text = (s: string, status = 200) => new Response(s, { status, headers: { "content-type": "text/plain" } });
  if (rest.join("/").includes("bad")) return text("Webhook Bad Request - Null or empty event", 400);
  const b = parse(body);
  const hasText = b.text || b.attachments?.[0]?.content?.body?.length;
  if (!hasText) return text("Summary or Text is required.", 400);
  if (JSON.stringify(b).includes("throttle-me"))
    return text("Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi", 200);
  return b.type === "message" ? new Response(null, { status: 202 }) : text("1");
}

function genericApi(req: Request, rest: string[], body: string, url: URL): Response {
  const auth = req.headers.get("authorization") ?? "";
  const key = req.headers.get("x-api-key") ?? url.searchParams.get("api_key") ?? "";
  const authorized = (auth && !auth.includes("YmFk") && !auth.includes("bad")) || (key && !key.includes("bad"));
  if (!authorized) return json(401, { error: "unauthorized", message: "Missing or invalid credentials" });
  if (rest[0] === "fail") return json(422, { error: { message: "Order 42 is closed" } });
  return json(200, { ok: true, method: req.method, path: `/${rest.join("/")}`, received: parse(body) });
}

/** The vendor answer for `url`, or null when the path is not a vendor's. */
export function vendorAnswer(req: Request, url: URL, body: string): Response | null {
  const parts = url.pathname.split("/").filter(Boolean);
  const [vendor, ...rest] = parts;
  switch (vendor) {
    case "slack":
      return slack(req, rest, body);
    case "hubspot":
      return hubspot(req, rest, body);
    case "gcal":
      return gcal(req, rest, body);
    case "resend":
      return resend(req, rest, body);
    case "twilio":
      return twilioAccount(req, rest) ?? twilio(req, rest, body);
    case "discord":
      return discord(req, rest, body);
    case "teams":
      return teams(req, rest, body);
    case "httpapi":
      return genericApi(req, rest, body, url);
    default:
      return null;
  }
}
