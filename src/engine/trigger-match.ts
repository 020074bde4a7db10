import type { TriggerEvent } from "../schemas/events";
import type { FilterConfig, TriggerCondition } from "../schemas/conditions";
import { evaluateTriggerConditions, matchFilterConfig } from "./conditions";
import { withRecordView } from "./record-view";

/** The parts of a flow the matcher reads. */
export interface MatchableFlow {
  id: string;
  triggers: { id: string; type: string; configuration?: Record<string, unknown> }[];
  trigger_conditions?: TriggerCondition[];
}

export interface MatchResult {
  matched: boolean;
  trigger_id?: string;
  reason?: string;
}

// Soft delete and restore have no Coherence record trigger: only entity_operation triggers hear them.
const RECORD_TRIGGER_BY_OPERATION: Partial<Record<string, string>> = {
  createEntity: "record.created",
  updateEntity: "record.updated",
  deleteEntity: "record.deleted",
};

/** The intake endpoint's event types whose triggers are indexed by one key of the event (or by '*'). */
const intakeKey = (event: TriggerEvent): string | undefined => {
  switch (event.type) {
    case "frontend_submission":
    case "journey_submission":
      return event.source_id;
    case "activity":
      return event.schema;
    case "flows_trigger":
      return event.journey_id;
    default:
      return undefined;
  }
};

/**
 * The include_activities / exclude_activities filter of a trigger: an activity type listed in
 * `exclude_activities`, or missing from a non-empty `include_activities`, does not fire it.
 */
function activityAllowed(cfg: Record<string, unknown>, activityType: string | undefined): boolean {
  const include = cfg.include_activities as string[] | undefined;
  const exclude = cfg.exclude_activities as string[] | undefined;
  if (include?.length && (activityType === undefined || !include.includes(activityType))) return false;
  return !(activityType !== undefined && exclude?.includes(activityType));
}

/** Which trigger types and source keys can match an event (the D1 index lookup), or the one flow it targets. */
export function candidateLookup(event: TriggerEvent): { flowId: string } | { types: string[]; keys: string[] } {
  switch (event.type) {
    case "webhook":
    case "schedule":
      return { flowId: event.flow_id };
    case "entity_operation": {
      const types = ["entity_operation"];
      const recordTrigger = RECORD_TRIGGER_BY_OPERATION[event.operation];
      if (recordTrigger) types.push(recordTrigger);
      if (event.operation === "updateEntity") types.push("field.changed");
      return { types, keys: [event.schema] };
    }
    case "event":
      return { types: ["event"], keys: [event.event_name] };
    case "api_submission":
      return { types: ["api_submission"], keys: event.source_id ? [event.source_id] : [] };
    default: {
      const key = intakeKey(event);
      return { types: [event.type], keys: key ? [key] : [] };
    }
  }
}

function changedFields(event: Extract<TriggerEvent, { type: "entity_operation" }>): Set<string> {
  return new Set([...Object.keys(event.diff.added), ...Object.keys(event.diff.updated), ...Object.keys(event.diff.deleted)]);
}

/** Does one trigger of the flow fire for this event? (Trigger conditions are checked by matchFlow.) */
function triggerFires(trigger: MatchableFlow["triggers"][number], event: TriggerEvent): boolean {
  const cfg = trigger.configuration ?? {};
  switch (event.type) {
    case "webhook":
    case "schedule":
      return trigger.id === event.trigger_id && trigger.type === event.type;
    case "event":
      return trigger.type === "event" && cfg.event_name === event.event_name;
    case "api_submission":
      return trigger.type === "api_submission" && (!cfg.source_id || cfg.source_id === event.source_id);
    case "frontend_submission":
      return trigger.type === event.type && (!cfg.source_id || cfg.source_id === event.source_id);
    case "journey_submission":
      return trigger.type === event.type && cfg.source_id === event.source_id;
    case "activity": {
      if (trigger.type !== "activity" || (cfg.schema && cfg.schema !== event.schema)) return false;
      const types = cfg.types as string[] | undefined;
      if (types?.length && !types.includes(event.activity_type)) return false;
      return activityAllowed(cfg, event.activity_type);
    }
    case "received_email":
      return trigger.type === event.type && (!cfg.message_type || cfg.message_type === event.message_type);
    case "new_email_thread": {
      if (trigger.type !== event.type || (cfg.direction !== "BOTH" && cfg.direction !== event.direction)) return false;
      const inboxes = cfg.shared_inbox_ids as string[] | undefined;
      return !inboxes?.length || (event.shared_inbox_id !== undefined && inboxes.includes(event.shared_inbox_id));
    }
    case "flows_trigger":
      return trigger.type === event.type && (!cfg.journey_id || cfg.journey_id === event.journey_id);
    case "entity_operation": {
      if (trigger.type === "entity_operation") {
        if (cfg.schema && cfg.schema !== event.schema) return false;
        const ops = cfg.operations as string[] | undefined;
        if (ops?.length && !ops.includes(event.operation)) return false;
        // A record write's activity is its operation unless the event names one (as epilot's activities do).
        if (!activityAllowed(cfg, event.activity_type ?? event.operation)) return false;
        if (cfg.filter_config) {
          const result = matchFilterConfig(cfg.filter_config as FilterConfig, {
            operation: event.operation,
            entity: event.entity ?? {},
            diff: event.diff,
            previous: event.previous,
            activity: { type: event.activity_type ?? event.operation },
          });
          if (!result.passed) return false;
        }
        return true;
      }
      if (cfg.module !== event.schema) return false;
      if (trigger.type === "field.changed")
        return event.operation === "updateEntity" && changedFields(event).has(String(cfg.field));
      return trigger.type === RECORD_TRIGGER_BY_OPERATION[event.operation];
    }
  }
}

/** The trigger event as an execution sees it (`trigger.*` in templates and conditions). */
export function executionTriggerEvent(event: TriggerEvent): Record<string, unknown> {
  if (event.type === "entity_operation") {
    return {
      type: "entity_operation",
      org_id: event.org_id,
      entity_id: event.entity_id,
      activity_id: event.id,
      operation_type: event.operation,
      schema: event.schema,
      entity: event.entity,
      diff: event.diff,
      previous: event.previous,
      actor: event.actor,
      event_id: event.id,
      at: event.at,
    };
  }
  return { ...event, event_id: event.id };
}

/**
 * Whether the event concerns the flow: one trigger fires and every trigger condition holds. Whether the
 * flow may run (enabled, chain depth, limits) is admission's decision (services/admission.ts), made once.
 */
export function matchFlow(flow: MatchableFlow, event: TriggerEvent): MatchResult {
  const trigger = flow.triggers.find((t) => triggerFires(t, event));
  if (!trigger) return { matched: false, reason: "no trigger matches" };
  if (flow.trigger_conditions?.length) {
    // The entity is read through the record view, so `entity.id` / `created_at` work as in the flow's conditions.
    const result = evaluateTriggerConditions(flow.trigger_conditions, withRecordView(executionTriggerEvent(event)));
    if (!result.passed) return { matched: false, trigger_id: trigger.id, reason: "trigger conditions not met" };
  }
  return { matched: true, trigger_id: trigger.id };
}
