import { z } from "zod";

/**
 * Messages of the `events` queue: one per inbound trigger. Every event has an id; an execution's id is
 * derived from (event id, flow id), so a redelivered message starts nothing twice.
 */
const base = {
  id: z.string().min(1).max(300),
  org_id: z.string().min(1).max(64),
  at: z.string(),
  /** Position in a chain of automations causing events (an automation's record write is depth + 1). */
  depth: z.number().int().min(0).default(0),
};

const json = z.record(z.string(), z.unknown());

export const EntityOperationEventSchema = z.object({
  ...base,
  type: z.literal("entity_operation"),
  operation: z.enum(["createEntity", "updateEntity", "deleteEntity", "softDeleteEntity", "restoreEntity"]),
  schema: z.string(),
  entity_id: z.string(),
  /** The record after the write (before it, for a delete). */
  entity: json.nullable(),
  diff: z.object({ added: json, updated: json, deleted: json }),
  previous: json,
  actor: z.string().optional(),
  /** epilot activity type of the write (e.g. `EntityUpdated`); filter_config `activity.type` matches it. */
  activity_type: z.string().optional(),
});

export const WebhookEventSchema = z.object({
  ...base,
  type: z.literal("webhook"),
  flow_id: z.string(),
  trigger_id: z.string(),
  path: z.string(),
  body: z.unknown(),
  query: z.record(z.string(), z.string()),
  headers: z.record(z.string(), z.string()),
  content_type: z.string().optional(),
});

export const ScheduleEventSchema = z.object({
  ...base,
  type: z.literal("schedule"),
  flow_id: z.string(),
  trigger_id: z.string(),
  scheduled_at: z.string(),
  /** The trigger's cron (with its zone), or its interval in seconds. */
  cron: z.string().optional(),
  timezone: z.string().optional(),
  interval: z.number().optional(),
});

export const NamedEventSchema = z.object({
  ...base,
  type: z.literal("event"),
  event_name: z.string(),
  payload: json,
  entity_id: z.string().nullable().optional(),
  source: json.optional(),
});

export const ApiSubmissionEventSchema = z.object({
  ...base,
  type: z.literal("api_submission"),
  source_id: z.string().optional(),
  payload: json,
  entity_id: z.string().optional(),
});

/**
 * The events of the intake endpoint (`POST /v1/automation/events`, services/event-intake.ts): one per epilot
 * trigger type that has no producer inside the engine (forms, journeys, activities, e-mail, Workflows V2).
 */
const intake = { payload: json, entity_id: z.string().optional() };

export const FrontendSubmissionEventSchema = z.object({
  ...base,
  ...intake,
  type: z.literal("frontend_submission"),
  source_id: z.string().optional(),
});

export const JourneySubmissionEventSchema = z.object({
  ...base,
  ...intake,
  type: z.literal("journey_submission"),
  source_id: z.string(),
});

export const ActivityEventSchema = z.object({
  ...base,
  ...intake,
  type: z.literal("activity"),
  activity_type: z.string(),
  schema: z.string().optional(),
});

export const ReceivedEmailEventSchema = z.object({
  ...base,
  ...intake,
  type: z.literal("received_email"),
  message_type: z.literal("RECEIVED"),
});

export const NewEmailThreadEventSchema = z.object({
  ...base,
  ...intake,
  type: z.literal("new_email_thread"),
  direction: z.enum(["INBOUND", "OUTBOUND"]),
  shared_inbox_id: z.string().optional(),
});

export const FlowsTriggerEventSchema = z.object({
  ...base,
  ...intake,
  type: z.literal("flows_trigger"),
  journey_id: z.string().optional(),
});

export const TriggerEventSchema = z.discriminatedUnion("type", [
  EntityOperationEventSchema,
  WebhookEventSchema,
  ScheduleEventSchema,
  NamedEventSchema,
  ApiSubmissionEventSchema,
  FrontendSubmissionEventSchema,
  JourneySubmissionEventSchema,
  ActivityEventSchema,
  ReceivedEmailEventSchema,
  NewEmailThreadEventSchema,
  FlowsTriggerEventSchema,
]);
export type TriggerEvent = z.infer<typeof TriggerEventSchema>;
/** An event of the intake endpoint. */
export type IntakeEvent = Extract<
  TriggerEvent,
  { type: "frontend_submission" | "journey_submission" | "activity" | "received_email" | "new_email_thread" | "flows_trigger" }
>;
export type EntityOperationEvent = z.infer<typeof EntityOperationEventSchema>;
export type NamedEvent = z.infer<typeof NamedEventSchema>;

/** The message of an event too large to travel inline, or sent again: its body is in the event inbox (D1 `event_inbox`). */
export const StoredEventRefSchema = z.object({ ...base, type: z.literal("stored") });
