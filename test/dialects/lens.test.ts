import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { agentLens, presentAgent } from "../../src/dialects/arrotech/agents-translate";
import { presentWorkflow } from "../../src/dialects/arrotech/workflows-present";
import { workflowLens, type WorkflowModel } from "../../src/dialects/arrotech/workflows-translate";
import { present as presentCoherence } from "../../src/dialects/coherence/present";
import { coherenceLens, type CohModel } from "../../src/dialects/coherence/translate";
import { defineLens, differsFrom, nativeOnlyFields, stableJson } from "../../src/dialects/lens";
import { pluraLens } from "../../src/dialects/plura/translate";
import { present as presentTrustPager } from "../../src/dialects/trustpager/automations";
import { trustpagerLens, type TpModel } from "../../src/dialects/trustpager/translate";
import { AppError } from "../../src/lib/errors";
import type { AgentRow } from "../../src/services/agents";
import type { AutomationFlow, ParsedFlowInput } from "../../src/schemas/flow";

/**
 * The dialect contract (src/dialects/lens.ts): validation with the dialect's field names, the exact round trip, what
 * a dialect cannot express (x_native, refused writes), on a toy lens and on each dialect's own.
 */

/** What `fn` throws, as an AppError. */
function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

// A toy dialect: `{title, tags}` ⇄ core `{name, labels}`. The core refuses an empty name and more than two labels.
const ToyCore = z.object({ name: z.string().min(1), labels: z.array(z.string()).max(2), extra: z.string().optional() });
type Core = z.infer<typeof ToyCore>;
interface Toy {
  title: string;
  tags: string[];
}
const toySpec = {
  title: "the Toy API",
  noun: "toy",
  schema: z.object({ title: z.string(), tags: z.array(z.string()) }),
  core: ToyCore,
  check: (t: Toy) => (t.title === "forbidden" ? [{ path: "title", location: "json", message: "not this one" }] : []),
  toCore: (t: Toy) => ({ name: t.title, labels: t.tags }),
  errorPath: (path: string[]) =>
    path
      .join(".")
      .replace(/^name/, "title")
      .replace(/^labels/, "tags"),
  fromCore: (c: Core) => ({ doc: { title: c.name, tags: c.labels }, keep: undefined, untranslated: c.extra ? ["extra"] : [] }),
  roundTrip: { keeps: (c: Core) => ({ name: c.name, labels: c.labels, extra: c.extra }) },
};
const toy = defineLens(toySpec);

describe("lens: writes", () => {
  it("answers the validated core input of a document", () => {
    expect(toy.write({ title: "a", tags: ["x"] })).toEqual({ name: "a", labels: ["x"] });
  });

  it("names the dialect's fields in a core schema's 400", () => {
    const err = thrown(() => toy.write({ title: "", tags: ["a", "b", "c"] }));
    expect(err.status).toBe(400);
    expect(err.code).toBe("VALIDATION_ERROR");
    expect(err.message).toBe("Invalid request body");
    expect(err.details.map((d) => d.path).sort()).toEqual(["tags", "title"]);
    expect(err.details.every((d) => d.location === "json" && typeof d.code === "string" && d.message.length > 0)).toBe(true);
  });

  it("runs the dialect's own checks first, and stops there", () => {
    const err = thrown(() => toy.write({ title: "forbidden", tags: ["a", "b", "c"] }));
    expect(err.details).toEqual([{ path: "title", location: "json", message: "not this one" }]);
  });

  it("without an error path map, names the core path", () => {
    const plain = defineLens({ ...toySpec, errorPath: undefined });
    expect(thrown(() => plain.write({ title: "", tags: [] })).details.map((d) => d.path)).toEqual(["name"]);
  });

  it("without a core schema, answers the core input as toCore made it (the service validates)", () => {
    const unchecked = defineLens({ ...toySpec, core: undefined, roundTrip: undefined });
    expect(unchecked.write({ title: "", tags: [] })).toEqual({ name: "", labels: [] });
  });
});

describe("lens: reads, the round trip and what a dialect cannot express", () => {
  it("is exact when writing the reading back gives the core value again", () => {
    const view = toy.read({ name: "a", labels: ["x"] });
    expect(view).toEqual({ doc: { title: "a", tags: ["x"] }, keep: undefined, untranslated: [], exact: true });
    expect(toy.native(view, { name: "a", labels: ["x"] })).toEqual({});
  });

  it("is inexact when the reading names a loss: x_native, and a write is refused with 409", () => {
    const core = { name: "a", labels: [], extra: "kept nowhere" };
    const view = toy.read(core);
    expect(view.exact).toBe(false);
    expect(view.untranslated).toEqual(["extra"]);
    expect(toy.native(view, core)).toEqual({ x_native: core });
    const err = thrown(() => toy.editable(core));
    expect(err.status).toBe(409);
    expect(err.code).toBe("NOT_EXPRESSIBLE");
    expect(err.message).toBe(
      "This toy uses features the Toy API cannot express (see x_native); edit it through /v1/automation/flows",
    );
  });

  it("is inexact when only the round trip tells a loss, and says so", () => {
    // The reading names nothing, but the core value does not survive (the core refuses three labels).
    const view = toy.read({ name: "a", labels: ["1", "2", "3"] });
    expect(view.exact).toBe(false);
    expect(view.untranslated).toEqual([differsFrom("toy")]);
  });

  it("a document toCore cannot write back is inexact, not an error", () => {
    const throwing = defineLens({
      ...toySpec,
      toCore: (t: Toy) => {
        if (t.tags.includes("bad")) throw new Error("cannot write");
        return { name: t.title, labels: t.tags };
      },
    });
    expect(throwing.read({ name: "a", labels: ["bad"] }).exact).toBe(false);
  });

  it("decidesAlone: the round trip decides, the names only explain (and are shown with x_untranslated)", () => {
    const lenient = defineLens({
      ...toySpec,
      roundTrip: { keeps: (c: Core) => ({ name: c.name, labels: c.labels }), decidesAlone: true },
      showsUntranslated: true,
      refusal: (u: string[]) => `cannot: ${u.join(", ")}`,
    });
    // `extra` is named, but the kept parts survive: exact, and the names are dropped.
    expect(lenient.read({ name: "a", labels: [], extra: "x" })).toMatchObject({ exact: true, untranslated: [] });
    const lossy = { name: "a", labels: ["1", "2", "3"], extra: "x" };
    const view = lenient.read(lossy);
    expect(view).toMatchObject({ exact: false, untranslated: ["extra"] });
    expect(lenient.native(view, lossy)).toEqual({ x_native: lossy, x_untranslated: ["extra"] });
    expect(lenient.refusal(view).message).toBe("cannot: extra");
  });

  it("without a round trip, every reading that names no loss is exact", () => {
    const renamed = defineLens({ ...toySpec, roundTrip: undefined });
    expect(renamed.read({ name: "a", labels: ["1", "2", "3"] }).exact).toBe(true);
    expect(renamed.read({ name: "a", labels: [], extra: "x" }).exact).toBe(false);
  });

  it("compares documents as stable JSON: key order and `secret_configured: false` do not count", () => {
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }));
    expect(stableJson({ a: 1, secret_configured: false })).toBe(stableJson({ a: 1 }));
    expect(stableJson({ a: 1, secret_configured: true })).not.toBe(stableJson({ a: 1 }));
    expect(stableJson([2, 1])).not.toBe(stableJson([1, 2]));
  });

  it("names the core features no dialect expresses", () => {
    const flow = { schedules: [{ id: "s" }], loops: [], system_flow: false, max_executions: 3, retry_policy: null };
    expect(nativeOnlyFields(flow)).toEqual(["schedules", "max_executions"]);
    expect(nativeOnlyFields(flow, ["loops", "schedules"])).toEqual(["schedules"]);
  });
});

/** A stored flow as the store answers it: the parsed input with ids and the server-set fields. */
function stored(input: ParsedFlowInput, extra: Partial<AutomationFlow> = {}): AutomationFlow {
  return {
    ...input,
    id: "flow-1",
    triggers: input.triggers.map((t, i) => ({ ...t, id: t.id ?? `trigger-${i}` })),
    actions: input.actions.map((a, i) => ({ ...a, id: a.id ?? `action-${i}` })),
    enabled: input.enabled ?? false,
    org_id: "org",
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    created_by: "test",
    last_updated_by: "test",
    version: 1,
    runs: 0,
    last_run_at: null,
    success_rate: null,
    consecutive_failures: 0,
    ...extra,
  } as AutomationFlow;
}

const cohModel = (over: Partial<CohModel> = {}): CohModel => ({
  name: "Notify",
  description: null,
  enabled: true,
  trigger: { type: "record.created", module: "leads" },
  conditions: [{ field: "source", operator: "equals", value: "web" }],
  actions: [{ type: "send_notification", config: { user_id: "u1", title: "New lead" } }],
  ...over,
});

describe("Coherence lens", () => {
  it("round trip: a written automation reads back exactly, the same model", () => {
    const flow = stored(coherenceLens.write(cohModel()));
    const view = coherenceLens.read(flow);
    expect(view.exact).toBe(true);
    expect(view.doc).toEqual(cohModel());
    expect(coherenceLens.write(view.doc, view.keep)).toMatchObject({ triggers: flow.triggers, actions: flow.actions });
  });

  it("names Coherence's fields in a 400 (trigger.schedule for the cron, name for flow_name)", () => {
    const err = thrown(() => coherenceLens.write(cohModel({ name: "", trigger: { type: "schedule", schedule: "not a cron" } })));
    expect(err.details.map((d) => d.path).sort()).toEqual(["name", "trigger.schedule"]);
  });

  it("a flow with two triggers or a native-only feature is shown with x_native and refused on writes", () => {
    const base = coherenceLens.write(cohModel());
    const two = stored({ ...base, triggers: [...base.triggers, { id: "t2", type: "manual", configuration: {} }] });
    // With two triggers the model shows none, so the entity_schema its module gave is lost too.
    expect(coherenceLens.read(two)).toMatchObject({ exact: false, untranslated: ["triggers", "entity_schema"] });
    const looped = stored(base, { max_executions: 5 } as Partial<AutomationFlow>);
    const view = coherenceLens.read(looped);
    expect(view).toMatchObject({ exact: false, untranslated: ["max_executions"] });
    expect(coherenceLens.native(view, looped)).toEqual({ x_native: looped });
    expect(thrown(() => coherenceLens.editable(looped)).message).toBe(
      "This automation uses features the Coherence API cannot express (see x_native); edit it through /v1/automation/flows",
    );
  });
});

const tpModel = (over: Partial<TpModel> = {}): TpModel => ({
  name: "Welcome",
  description: null,
  trigger_type: "schedule",
  stage_id: null,
  stage_module: null,
  conditions: null,
  enabled: true,
  triggers: [{ id: "row-1", source_type: "schedule", source_id: null, config: { cron: "0 9 * * *" }, created_at: null }],
  actions: [{ id: "act-1", action_type: "send_notification", sequence: 1, name: null, config: { user_id: "u1", title: "hi" } }],
  ...over,
});

describe("TrustPager lens", () => {
  it("round trip: a written automation reads back exactly", () => {
    const view = trustpagerLens.read(stored(trustpagerLens.write(tpModel())));
    expect(view.exact).toBe(true);
    expect(view.doc).toEqual({ ...tpModel(), conditions: [] });
  });

  it("names TrustPager's fields: its own checks, and core paths past the synthetic triggers", () => {
    expect(thrown(() => trustpagerLens.write(tpModel({ trigger_type: "stage_changed" }))).details).toEqual([
      { path: "stage_id", location: "json", message: "stage_changed automations need a stage_id" },
    ]);
    const badCron = tpModel({
      triggers: [{ id: "row-1", source_type: "schedule", source_id: null, config: { cron: "nope" }, created_at: null }],
    });
    // The core path is triggers.1 (after the tp_meta trigger): the row is triggers.0, its configuration `config`.
    expect(thrown(() => trustpagerLens.write(badCron)).details.map((d) => d.path)).toEqual(["triggers.0.config.cron"]);
  });

  it("a flow made elsewhere (no TrustPager meta trigger) is not exact", () => {
    const native = stored(coherenceLens.write(cohModel()));
    const view = trustpagerLens.read(native);
    expect(view.exact).toBe(false);
    expect(view.untranslated[0]).toBe("triggers (no tp_meta trigger)");
    expect(thrown(() => trustpagerLens.editable(native)).status).toBe(409);
  });
});

const workflow = (over: Partial<WorkflowModel> = {}): WorkflowModel => ({
  name: "Daily digest",
  description: null,
  status: "active",
  trigger_type: "schedule",
  trigger_config: { cron: "0 8 * * *" },
  variables: { topic: "sales" },
  steps: [{ tool: "send_notification", params: { user_id: "u1", title: "{{ variables.topic }}" } }],
  workflow_metadata: {},
  ...over,
});

const row: AgentRow = {
  id: "ag-1",
  org_id: "org",
  flow_id: "flow-1",
  name: "Digest",
  template_id: null,
  agent_config: { k: 1 },
  schedule_config: null,
  status: "active",
  last_error: null,
  last_error_at: null,
  fire_error_count: 0,
  created_by: "me",
  created_at: "t0",
  updated_at: "t1",
};

describe("Arrotech lenses", () => {
  it("workflows: round trip, and a 400 naming the step and trigger_config", () => {
    const view = workflowLens.read(stored(workflowLens.write(workflow())));
    expect(view.exact).toBe(true);
    expect(view.doc).toMatchObject({
      ...workflow(),
      steps: [{ tool: "send_notification", params: { user_id: "u1", title: "{{ variables.topic }}" } }],
    });
    const err = thrown(() => workflowLens.write(workflow({ trigger_config: { cron: "nope" } })));
    expect(err.details.map((d) => d.path)).toEqual(["trigger_config.cron"]);
    expect(thrown(() => workflowLens.write(workflow({ steps: [{ tool: "no_such_tool", params: {} }] }))).details).toEqual([
      expect.objectContaining({ path: "steps.0.tool", location: "json" }),
    ]);
  });

  it("workflows: what the shape cannot hold is listed in x_untranslated and in the 409", () => {
    const base = workflowLens.write(workflow());
    const flow = stored({ ...base, conditions: [{ id: "c1", field: "a", operator: "equals", value: 1 }] } as ParsedFlowInput);
    const view = workflowLens.read(flow);
    expect(view).toMatchObject({ exact: false, untranslated: ["conditions"] });
    expect(workflowLens.native(view, flow)).toEqual({ x_native: flow, x_untranslated: ["conditions"] });
    expect(workflowLens.refusal(view).message).toContain("cannot express (conditions; see x_native)");
  });

  it("agents: the core agent row renamed, always exact; null in a write is the core's default", () => {
    const view = agentLens.read(row);
    expect(view.exact).toBe(true);
    expect(view.doc).toMatchObject({ agent_id: "ag-1", workflow_id: "flow-1", trigger_type: "manual" });
    expect(agentLens.write({ workflow_id: "flow-1", agent_config: null, schedule_config: null })).toEqual({
      workflow_id: "flow-1",
      name: undefined,
      agent_config: undefined,
      schedule_config: undefined,
    });
  });

  it("plura: its request is the core's own, both ways", () => {
    const body = { automationType: "core", nodeParams: { action: "send_notification", params: {} } } as Parameters<
      typeof pluraLens.write
    >[0];
    expect(pluraLens.write(body)).toBe(body);
    expect(pluraLens.read(body)).toEqual({ doc: body, keep: undefined, untranslated: [], exact: true });
  });
});

describe("each lens's schema is the document its API serves", () => {
  it("for exact and inexact flows alike", () => {
    const cases: [z.ZodType, (f: AutomationFlow) => unknown, AutomationFlow][] = [
      [coherenceLens.spec.schema, presentCoherence, stored(coherenceLens.write(cohModel()))],
      [trustpagerLens.spec.schema, presentTrustPager, stored(trustpagerLens.write(tpModel()))],
      [workflowLens.spec.schema, presentWorkflow, stored(workflowLens.write(workflow()))],
    ];
    const native = stored(coherenceLens.write(cohModel()), { max_executions: 5 } as Partial<AutomationFlow>);
    for (const [schema, present, flow] of cases) {
      for (const f of [flow, native]) {
        const parsed = schema.safeParse(present(f));
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      }
    }
    expect(agentLens.spec.schema.safeParse(presentAgent(row)).success).toBe(true);
  });
});
