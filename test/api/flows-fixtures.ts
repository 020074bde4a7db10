import { call } from "../helpers";

/** A fresh organization id, so counts and searches of one test are not affected by the others. */
export const freshOrg = (): string => `org-${crypto.randomUUID().slice(0, 8)}`;

export const WEBHOOK_SECRET = "whsec_0123456789abcdefghij";

/** A flow using most of the document: conditions, schedules, loops, an epilot and a Coherence action. */
export function sampleFlow(overrides: Record<string, unknown> = {}) {
  return {
    flow_name: "Handle contact form",
    entity_schema: "submission",
    triggers: [{ type: "entity_operation", configuration: { schema: "contact", operations: ["createEntity", "updateEntity"] } }],
    trigger_conditions: [{ source: "entity.status", comparison: "equals", value: "new" }],
    conditions: [
      {
        id: "c1",
        schedule_id: "s1",
        evaluation_order: "AFTER_SCHEDULE",
        allow_failure: true,
        statements: [
          { id: "st1", source: { origin: "trigger", schema: "contact", attribute: "email" }, operation: "is_not_empty" },
        ],
      },
      { id: "c2", field: "record.source", operator: "equals", value: "website" },
    ],
    schedules: [
      { id: "s1", numberOfUnits: 2, timePeriod: "days", timeRelation: "after", source: { id: "trigger-1", origin: "trigger" } },
    ],
    loops: [{ id: "loop_contracts", source_path: "submission.steps[0]['Contracts']", source_type: "journey-multi-select" }],
    actions: [
      {
        name: "Map contact",
        type: "map-entity",
        config: {
          target_schema: "contact",
          mapping_attributes: [{ target: "_tags", operation: { _append: ["new"], _uniq: true } }],
        },
      },
      {
        name: "Notify",
        type: "call_webhook",
        condition_id: "c1",
        schedule_id: "s1",
        loop_id: "loop_contracts",
        retry_policy: { max_attempts: 3, backoff_seconds: [60, 300] },
        config: { url: "https://hooks.example.com/{{ record.id }}", method: "POST", body: { id: "{{ record.id }}" } },
      },
    ],
    ...overrides,
  };
}

/** The smallest valid flow. */
export const minimalFlow = (name = "Minimal") => ({ flow_name: name, triggers: [{ type: "manual" }], actions: [] });

/** Creates a flow (admin key, `org`) and returns the response body; fails the test on anything but 201. */
export async function createFlow(body: unknown, org = "org-a"): Promise<any> {
  const res = await call("POST", "/v1/automation/flows", { body, org });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The paths named in a 400 response's details, sorted. */
export const errorPaths = (body: { error: { details: { path?: string }[] } }): string[] =>
  body.error.details.map((d) => d.path ?? "").sort();
