import { beforeEach, describe, expect, it } from "vitest";
import { dryRun, type ActionPreview, type DryRunResult } from "../../src/engine/dry-run";
import type { NewExecution } from "../../src/engine/execution/create";
import type { ExecutionState } from "../../src/engine/execution/types";
import type { ExecutionSnapshot } from "../../src/contracts/execution-object";
import type { SinkRequest } from "../support/sink";
import { SINK, createFlow, createRecord, drive, executionStub, sinkRequests, sinkReset, startExec } from "../support/engine";

/**
 * Preview and run cannot disagree: each flow below is run for real (started through the API, its alarm
 * fired on purpose at every wake-up it asks for, the sink answering its calls) and previewed by the dry
 * run from the same creation input and clock. Compared: which actions run or are skipped (and why), how
 * many calls each makes (loop iterations), the rendered config of its first call (URL and body as the
 * sink received them), condition results, schedule due times, when each action starts and when the run
 * ends. Not compared: what targets answer. The dry run assumes success, so an action a target refuses
 * (a 400 under allow_failure) is listed in `answeredDifferently` and only its status is left out; and
 * templates reading earlier outputs are previewed from the real run's outputs, passed as samples.
 */

beforeEach(sinkReset);

const FINAL = new Set(["success", "failed", "cancelled", "skipped", "hot"]);
const DAY = 86_400_000;
/** Each call names its action in the query, so a hit maps to its action whatever the path. */
const url = (action: string, path = `p/${action}`) => `${SINK}/${path}?a=${action}`;

/** Fires the execution's alarm at each wake-up it asks for, the clock jumping there, until it ends. */
async function runToEnd(id: string, t0: number): Promise<any> {
  let now = t0;
  for (let i = 0; i < 20; i++) {
    const exec = await drive(id, now);
    if (FINAL.has(exec.execution_status)) return exec;
    const next = await executionStub(id).nextWakeAt();
    expect(next, `${exec.execution_status} with nothing to wait for`).not.toBeNull();
    now = Math.max(now, next!);
  }
  throw new Error(`execution ${id} did not finish`);
}

function creationInput(s: ExecutionState): NewExecution {
  const { id, org_id, flow, entity_id, entity, trigger_event, workflow_context, depth, user, variables } = s;
  return { id, org_id, flow, entity_id, entity, trigger_event, workflow_context, depth, user, variables };
}

interface Case {
  flow: Record<string, unknown>;
  entity?: Record<string, unknown>;
  /** Actions whose real answer is a failure the dry run cannot know (their status is not compared). */
  answeredDifferently?: string[];
  /** Actions whose real outputs are given to the dry run as samples. */
  sampleOutputsOf?: string[];
}

/** Runs the flow for real and previews it; compares what is comparable and returns both for further checks. */
async function runAndPreview(c: Case): Promise<{ real: any; preview: DryRunResult; hits: SinkRequest[] }> {
  const flow = await createFlow(c.flow);
  const rec = c.entity ? await createRecord("parity", c.entity) : undefined;
  const id = await startExec(flow.id, rec?._id);
  const created = ((await executionStub(id).snapshot()) as unknown as ExecutionSnapshot).state;
  const t0 = created.created_at;

  const real = await runToEnd(id, t0);
  const hits = await sinkRequests("/");
  const outputs = Object.fromEntries(
    (c.sampleOutputsOf ?? []).map((a) => [a, real.actions.find((x: any) => x.id === a).outputs as Record<string, unknown>]),
  );
  const preview = dryRun(creationInput(created), t0, { outputs });

  const differ = new Set(c.answeredDifferently ?? []);
  expect(preview.complete).toBe(true);
  expect(preview.status).toBe(real.execution_status);
  expect(preview.finishes_at).toBe(real.finished_at);
  expect(preview.conditions_passed).toBe(
    (real.conditions_evaluated?.passed ?? true) && real.actions.every((a: any) => a.condition_result?.passed !== false),
  );
  expect(preview.actions_preview.map((p) => p.action_id)).toEqual(real.actions.map((a: any) => a.id));
  real.actions.forEach((a: any, i: number) => compareAction(a, preview.actions_preview[i], hits, differ.has(a.id)));
  return { real, preview, hits };
}

function compareAction(real: any, p: ActionPreview, hits: SinkRequest[], answeredDifferently: boolean): void {
  const at = `action ${real.id}`;
  if (!answeredDifferently) expect(p.status, at).toBe(real.execution_status);
  if (p.would_run) expect(p.skip_reason, at).toBeUndefined();
  // A run records no reason on actions a cancel ended; the preview still says why.
  else if (real.execution_status === "cancelled") expect(p.skip_reason, at).toBeDefined();
  else expect(p.skip_reason, at).toBe(real.reason?.message);
  expect(p.condition?.passed, at).toBe(real.condition_result?.passed);
  expect(p.scheduled_for, at).toBe(real.scheduled_for);
  expect(p.loop_items, at).toBe(real.loop_state?.total);
  expect(p.runs_at, at).toBe(real.started_at);
  if (real.type === "delay") expect(p.waits_until, at).toBe(real.outputs.waited_until);
  if (real.type !== "call_webhook") {
    expect(p.would_run, at).toBe(real.execution_status === "success");
    return;
  }
  const mine = hits.filter((h) => new URL(h.url).searchParams.get("a") === real.id);
  expect(mine.length, `${at}: calls`).toBe(p.would_run ? (p.loop_items ?? 1) : 0);
  if (mine.length === 0) return;
  expect(mine[0].url, at).toBe(p.rendered_config?.url);
  if (p.rendered_config?.body !== undefined) expect(JSON.parse(mine[0].body), at).toEqual(p.rendered_config.body);
}

describe("dry run and run agree", () => {
  it("on conditions: a flow-level (Coherence) condition, action conditions passing and failing, a rendered body", async () => {
    const value = (op: string, v: string) => ({
      statements: [{ source: { origin: "trigger", attribute: "value", attributeType: "number" }, operation: op, values: [v] }],
    });
    const { preview } = await runAndPreview({
      entity: { name: "Acme", stage: "won", value: 500 },
      flow: {
        flow_name: "parity-conditions",
        conditions: [
          { field: "stage", operator: "equals", value: "won" },
          { id: "big", ...value("greater_than", "1000") },
          { id: "some", ...value("greater_than", "100") },
        ],
        actions: [
          { id: "vip", type: "call_webhook", condition_id: "big", config: { url: url("vip") } },
          {
            id: "deal",
            type: "call_webhook",
            condition_id: "some",
            config: { url: url("deal"), body: { text: "{{ record.name | upcase }} {{ record.value }}" } },
          },
          { id: "always", type: "call_webhook", config: { url: url("always"), body: { stage: "{{ record.stage }}" } } },
        ],
      },
    });
    // The flow really did take both branches (so the comparison above covered each).
    expect(preview.actions_preview.map((p) => p.would_run)).toEqual([false, true, true]);
    expect(preview.conditions_evaluated.map((s) => s.passed)).toEqual([true, false, true]);
  });

  it("on a failing flow-level (Coherence) condition: everything skipped", async () => {
    const { preview } = await runAndPreview({
      entity: { stage: "open" },
      flow: {
        flow_name: "parity-coherence",
        conditions: [{ field: "stage", operator: "equals", value: "won" }],
        actions: [
          { id: "a", type: "call_webhook", config: { url: url("a") } },
          { id: "b", type: "call_webhook", config: { url: url("b") } },
        ],
      },
    });
    expect(preview.status).toBe("skipped");
    expect(preview.would_execute).toBe(false);
  });

  it("on schedules (2 days after the trigger, 1 day before a date of the record) and a delay with a schedule after it", async () => {
    const endDate = new Date(Date.now() + 10 * DAY).toISOString();
    const { preview } = await runAndPreview({
      entity: { end_date: endDate },
      flow: {
        flow_name: "parity-schedules",
        schedules: [
          { id: "in2d", numberOfUnits: 2, timePeriod: "days", timeRelation: "after", source: { id: "t", origin: "trigger" } },
          {
            id: "before-end",
            numberOfUnits: 1,
            timePeriod: "days",
            timeRelation: "before",
            source: { id: "t", origin: "trigger", attribute: "end_date" },
          },
          {
            id: "after-wait",
            numberOfUnits: 10,
            timePeriod: "minutes",
            timeRelation: "after",
            source: { id: "wait", origin: "action" },
          },
        ],
        actions: [
          { id: "first", type: "call_webhook", config: { url: url("first") } },
          { id: "later", type: "call_webhook", schedule_id: "in2d", config: { url: url("later") } },
          { id: "wait", type: "delay", config: { duration: 90, unit: "minutes" } },
          { id: "follow", type: "call_webhook", schedule_id: "after-wait", config: { url: url("follow") } },
          { id: "reminder", type: "call_webhook", schedule_id: "before-end", config: { url: url("reminder") } },
        ],
      },
    });
    const [, later, wait, follow, reminder] = preview.actions_preview;
    const t0 = Date.parse(preview.actions_preview[0].runs_at!);
    expect(Date.parse(later.scheduled_for!)).toBe(t0 + 2 * DAY);
    expect(Date.parse(wait.waits_until!)).toBe(t0 + 2 * DAY + 90 * 60_000);
    expect(Date.parse(follow.scheduled_for!)).toBe(t0 + 2 * DAY + 100 * 60_000);
    expect(reminder.scheduled_for).toBe(new Date(Date.parse(endDate) - DAY).toISOString());
  });

  it("on loops over the record's items (with allow_failure and a refused item), and allow_failure on a single call", async () => {
    const items = [{ sku: "a" }, { sku: "bad" }, { sku: "c" }];
    const perItemUrl =
      `${SINK}/{% if loop.item.sku == "bad" %}status/400{% else %}p/per/{{ loop.item.sku }}{% endif %}` +
      `?a=per&i={{ loop.index }}`;
    const { real, preview } = await runAndPreview({
      entity: { items, more: { list: [1, 2] } },
      answeredDifferently: ["per", "refused"],
      flow: {
        flow_name: "parity-loops",
        loops: [
          { id: "each-item", source_path: "items" },
          { id: "each-n", source_path: "entity.more.list" },
        ],
        actions: [
          {
            id: "per",
            type: "call_webhook",
            loop_id: "each-item",
            allow_failure: true,
            config: { url: perItemUrl, body: { sku: "{{ loop.item.sku }}" } },
          },
          { id: "refused", type: "call_webhook", allow_failure: true, config: { url: url("refused", "status/400") } },
          { id: "per-n", type: "call_webhook", loop_id: "each-n", config: { url: url("per-n"), body: { n: "{{ loop.item }}" } } },
          { id: "next", type: "call_webhook", config: { url: url("next") } },
        ],
      },
    });
    // The targets refused for real; the run went on as the preview says it would.
    expect(real.actions.map((a: any) => a.execution_status)).toEqual(["failed", "failed", "success", "success"]);
    expect(preview.actions_preview.map((p) => p.loop_items)).toEqual([3, undefined, 2, undefined]);
  });

  it("on a loop over an earlier action's outputs, previewed from that action's real outputs", async () => {
    const { preview } = await runAndPreview({
      sampleOutputsOf: ["fetch"],
      flow: {
        flow_name: "parity-loop-outputs",
        loops: [{ id: "rows", source_path: "actions.fetch.outputs.body.received.rows" }],
        actions: [
          { id: "fetch", type: "call_webhook", config: { url: url("fetch"), body: { rows: [{ n: 1 }, { n: 2 }, { n: 3 }] } } },
          {
            id: "per-row",
            type: "call_webhook",
            loop_id: "rows",
            config: { url: url("per-row"), body: { n: "{{ loop.item.n }}" } },
          },
          {
            id: "status",
            type: "call_webhook",
            config: { url: url("status"), body: { was: "{{ actions.fetch.outputs.status }}" } },
          },
        ],
      },
    });
    expect(preview.actions_preview[1].loop_items).toBe(3);
  });

  it("on cancel-flow-execution: the rest is cancelled", async () => {
    const { preview } = await runAndPreview({
      flow: {
        flow_name: "parity-cancel",
        actions: [
          { id: "a", type: "call_webhook", config: { url: url("a") } },
          { id: "stop", type: "cancel-flow-execution", config: { selected_reasons: [{ id: "r", title: "Done" }] } },
          { id: "b", type: "call_webhook", config: { url: url("b") } },
        ],
      },
    });
    expect(preview.status).toBe("cancelled");
  });
});
