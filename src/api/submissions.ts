import { z } from "@hono/zod-openapi";
import type { ApiSubmissionEventSchema } from "../schemas/events";
import { newId } from "../lib/ids";
import { isoNow } from "../lib/time";
import { enqueueEvent } from "../services/event-queue";
import { createRouter, errorResponses, triggerRoute, jsonBody, jsonResponse } from "./router";

const SubmissionRequest = z
  .object({
    source_id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Matched against api_submission triggers' configuration.source_id" }),
    payload: z.record(z.string(), z.unknown()).openapi({ description: "Available to the flow as trigger.payload" }),
    entity_id: z.string().min(1).max(200).optional(),
    event_id: z.string().min(1).max(200).optional().openapi({
      description: "Your id for this submission: submitting the same id again is the same event (starts nothing new)",
    }),
  })
  .strict()
  .openapi("ApiSubmission");

const Accepted = z.object({ event_id: z.string(), status: z.literal("accepted") }).openapi("EventAccepted");

const submitRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/",
  operationId: "submitApiEvent",
  tags: ["triggers"],
  summary:
    "Submit an API event: flows with a matching api_submission trigger start from the events queue (202, no work in the request)",
  request: jsonBody(SubmissionRequest),
  responses: {
    202: jsonResponse(Accepted, "Enqueued"),
    ...errorResponses(400, 401, 403, 413, 415),
  },
});

export const submissionsRouter = createRouter().openapi(submitRoute, async (c) => {
  const p = c.get("principal");
  const body = c.req.valid("json");
  const event: z.infer<typeof ApiSubmissionEventSchema> = {
    id: `sub:${body.event_id ?? newId()}`,
    org_id: p.orgId,
    at: isoNow(),
    depth: 0,
    type: "api_submission",
    source_id: body.source_id,
    payload: body.payload,
    entity_id: body.entity_id,
  };
  await enqueueEvent(c.env, event);
  return c.json({ event_id: event.id, status: "accepted" as const }, 202);
});
