import { z } from "zod";
import { BaseUrlField, SecretString, defineProvider, httpFailure, obj, providerAction, str, type VendorResponse } from "./types";

/**
 * Google Calendar API v3 with an OAuth access token. `appointment` creates an event (the Plura action name; its
 * params are the seed's camelCase `summary`, `startTime`, `endTime`). Tokens are short-lived: a 401 marks the
 * connection `expired` until a new token is saved.
 */

const GoogleCalendarConfig = z.strictObject({
  access_token: SecretString("OAuth 2.0 access token with the calendar.events scope"),
  calendar_id: z.string().min(1).max(500).default("primary").describe("Calendar used when an action names none"),
  time_zone: z.string().min(1).max(100).optional().describe("IANA time zone for events without one"),
  base_url: BaseUrlField,
});
type GoogleCalendarConfig = z.output<typeof GoogleCalendarConfig>;

const DateTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO-8601 date-time");

/** Google errors are `{error: {code, message, status}}`. */
function googleFailure(res: VendorResponse, now: number) {
  const err = obj(obj(res.body).error);
  const message =
    str(err, "message") ?? (typeof res.body === "string" && res.body ? res.body : `Google answered HTTP ${res.status}`);
  return httpFailure(res, message, {
    now,
    vendor_code: str(err, "status"),
    ...(res.status === 401 ? { kind: "expired" as const } : {}),
  });
}

const auth = (c: GoogleCalendarConfig) => ({ authorization: `Bearer ${c.access_token}` });
const action = providerAction<GoogleCalendarConfig>();

const appointment = action({
  title: "Create a Google Calendar event",
  effect: "write",
  description: "Creates an event (POST /calendars/{calendarId}/events).",
  params: z
    .strictObject({
      summary: z.string().min(1).max(1000),
      startTime: DateTime,
      endTime: DateTime,
      description: z.string().max(8000).optional(),
      location: z.string().max(1000).optional(),
      attendees: z.array(z.string().email()).max(100).optional().describe("Attendee email addresses"),
      timeZone: z.string().max(100).optional(),
      calendarId: z.string().min(1).max(500).optional(),
    })
    .refine((p) => Date.parse(p.endTime) > Date.parse(p.startTime), {
      message: "endTime must be after startTime",
      path: ["endTime"],
    }),
  result: z.object({ id: z.string(), status: z.string().optional(), htmlLink: z.string().optional() }),
  async run(ctx, p) {
    const timeZone = p.timeZone ?? ctx.config.time_zone;
    const calendar = p.calendarId ?? ctx.config.calendar_id;
    const res = await ctx.request({
      method: "POST",
      path: `/calendars/${encodeURIComponent(calendar)}/events`,
      headers: auth(ctx.config),
      json: {
        summary: p.summary,
        description: p.description,
        location: p.location,
        start: { dateTime: p.startTime, ...(timeZone ? { timeZone } : {}) },
        end: { dateTime: p.endTime, ...(timeZone ? { timeZone } : {}) },
        attendees: p.attendees?.map((email) => ({ email })),
      },
    });
    if (!res.ok) return googleFailure(res, ctx.now);
    const b = obj(res.body);
    return {
      success: true,
      status: res.status,
      data: { id: str(b, "id") ?? "", status: str(b, "status"), htmlLink: str(b, "htmlLink") },
    };
  },
});

export const googleCalendarProvider = defineProvider({
  platform: "google_calendar",
  title: "Google Calendar",
  description: "Create events in a Google Calendar.",
  category: "calendar",
  docs_url: "https://developers.google.com/calendar/api/v3/reference/events/insert",
  config: GoogleCalendarConfig,
  secretFields: ["access_token"],
  apiRoot: () => "https://www.googleapis.com/calendar/v3",
  actions: { appointment },
  async authCheck(ctx) {
    const res = await ctx.request({
      method: "GET",
      path: `/calendars/${encodeURIComponent(ctx.config.calendar_id)}`,
      headers: auth(ctx.config),
    });
    if (!res.ok) return googleFailure(res, ctx.now);
    const b = obj(res.body);
    return { success: true, status: res.status, data: { calendar_id: b.id, summary: b.summary, time_zone: b.timeZone } };
  },
});
