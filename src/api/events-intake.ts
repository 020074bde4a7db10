import { z } from "@hono/zod-openapi";
import { AppError } from "../lib/errors";
import { InboundEmail } from "../schemas/inboxes";
import { acceptIntakeEvent, type IntakeInput } from "../services/event-intake";
import { acceptInboundEmail } from "../services/inbound-email";
import { createRouter, errorResponses, jsonBody, jsonResponse, triggerRoute } from "./router";

/**
 * `POST /v1/automation/events`: the event source of the epilot triggers that nothing inside the engine
 * produces (frontend and journey submissions, activities, received e-mails, new e-mail threads, Workflows V2).
 * The caller (a form backend, a mail gateway, …) posts the event; flows with a matching trigger start from
 * the events queue. docs/triggers.md describes each type and how it matches.
 */

const Id = z.string().min(1).max(200);
const common = {
  payload: z.record(z.string(), z.unknown()).default({}).openapi({ description: "Available to the flow as trigger.payload" }),
  entity_id: Id.optional().openapi({ description: "The record the event is about (the execution's entity)" }),
  event_id: Id.optional().openapi({
    description:
      "Your id for this event: posting the same id again is the same event and starts nothing new. " +
      "The Idempotency-Key header does the same; when both are given they must be equal (else 400).",
  }),
};

const variant = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ type: z.literal(type), ...common, ...shape });

const IntakeRequest = z
  .discriminatedUnion("type", [
    variant("frontend_submission", {
      source_id: Id.optional().openapi({ description: "The form's id; matched against configuration.source_id" }),
    }),
    variant("journey_submission", {
      source_id: Id.openapi({ description: "The journey's id; matched against configuration.source_id" }),
    }),
    variant("activity", {
      activity_type: Id.openapi({
        example: "CreateMeterReading",
        description: "Matched against configuration.types and include_activities / exclude_activities",
      }),
      schema: Id.optional().openapi({
        description: "Schema of the entity the activity is on; matched against configuration.schema",
      }),
    }),
    variant("received_email", {
      message_type: z.literal("RECEIVED").default("RECEIVED"),
      email: InboundEmail.optional().openapi({
        description:
          "The e-mail itself: stored as a message record in its thread (attachments as files), which becomes the " +
          "event's entity; a message opening a thread also raises new_email_thread (docs/platform.md)",
      }),
    }),
    variant("new_email_thread", {
      direction: z
        .enum(["INBOUND", "OUTBOUND"])
        .openapi({ description: "Matched against configuration.direction (BOTH takes either)" }),
      shared_inbox_id: Id.optional().openapi({ description: "Matched against configuration.shared_inbox_ids when that is set" }),
    }),
    variant("flows_trigger", {
      journey_id: Id.optional().openapi({ description: "The linked journey; matched against configuration.journey_id" }),
    }),
  ])
  .openapi("AutomationEventIntake");

const Accepted = z.object({ event_id: z.string(), status: z.literal("accepted") }).openapi("AutomationEventAccepted");

const intakeRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/",
  operationId: "submitAutomationEvent",
  tags: ["triggers"],
  summary:
    "Submit a trigger event (frontend_submission, journey_submission, activity, received_email, new_email_thread, " +
    "flows_trigger): flows with a matching trigger start from the events queue (202, no work in the request)",
  request: {
    headers: z.object({
      "idempotency-key": Id.optional().openapi({ description: "Same as event_id in the body" }),
    }),
    ...jsonBody(IntakeRequest),
  },
  responses: {
    202: jsonResponse(Accepted, "Enqueued"),
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

export const eventsIntakeRouter = createRouter().openapi(intakeRoute, async (c) => {
  const { event_id: bodyId, ...input } = c.req.valid("json");
  const headerId = c.req.valid("header")["idempotency-key"];
  if (bodyId !== undefined && headerId !== undefined && bodyId !== headerId) {
    throw new AppError(400, "VALIDATION_ERROR", "event_id and Idempotency-Key name different events", [
      { path: "event_id", location: "json", message: "differs from the Idempotency-Key header" },
    ]);
  }
  const orgId = c.get("principal").orgId;
  if (input.type === "received_email" && input.email) {
    const { email, ...rest } = input;
    const event = await acceptInboundEmail(c.env, orgId, rest, email, bodyId ?? headerId);
    return c.json({ event_id: event.id, status: "accepted" as const }, 202);
  }
  const event = await acceptIntakeEvent(c.env, orgId, input as IntakeInput, bodyId ?? headerId);
  return c.json({ event_id: event.id, status: "accepted" as const }, 202);
});
