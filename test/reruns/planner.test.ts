import { describe, expect, it } from "vitest";
import { planFlow } from "../../src/engine/plan/plan";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import { SINK, createFlow } from "../support/engine";

/** The limits planner: POST /flows:plan, the `plan` of every flow, and flows refused on save. */

const hook = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "call_webhook",
  config: { url: `${SINK}/${id}` },
  ...extra,
});

describe("a flow that fits", () => {
  it("has a plan with every figure and no warning or error, on create, get, list and flows:plan alike", async () => {
    const body = {
      flow_name: "fits",
      triggers: [{ type: "manual" }],
      schedules: [
        { id: "s1", numberOfUnits: 2, timePeriod: "hours", timeRelation: "after", source: { id: "t", origin: "trigger" } },
      ],
      loops: [{ id: "l", source_path: "entity.items", length: 3 }],
      actions: [
        hook("a"),
        { id: "wait", type: "delay", loop_id: "l", config: { duration: 5, unit: "minutes" } },
        { id: "each", type: "send_notification", loop_id: "l", config: { user_id: "u", title: "{{ loop.item }}" } },
        { id: "rec", type: "create_record", config: { module: "ticket", data: { title: "t" } } },
      ],
    };
    const flow = await createFlow(body);
    expect(flow.plan).toEqual({
      max_actions: 1 + 3 + 3 + 1,
      max_attempts: (1 + 3 + 3 + 1) * 4,
      max_outbound_requests: 1,
      max_outbound_requests_per_invocation: 1,
      subrequest_limits: { free: 50, paid: 10_000 },
      max_payload_bytes: LIMITS.MAX_RECORD_BYTES,
      total_delay_seconds: 3 * 300 + 2 * 3600,
      max_model_tokens: 0,
      est_cpu_ms: expect.any(Number),
      warnings: [],
      errors: [],
    });
    const planned = await call("POST", "/v1/automation/flows:plan", { body });
    expect(planned.status).toBe(200);
    expect(planned.body).toEqual(flow.plan);
    expect((await call("GET", `/v1/automation/flows/${flow.id}`)).body.plan).toEqual(flow.plan);
    const list = await call("GET", "/v1/automation/flows?size=100");
    expect(list.body.results.find((f: any) => f.id === flow.id).plan).toEqual(flow.plan);
  });
});

describe("a flow that may exceed the limits", () => {
  it("is saved with warnings: a loop of unknown length planned at its largest, outputs over the caps", async () => {
    const flow = await createFlow({
      flow_name: "warns",
      loops: [{ id: "l", source_path: "entity.items" }],
      actions: [hook("each", { loop_id: "l" })],
    });
    expect(flow.plan).toMatchObject({
      max_actions: LIMITS.MAX_LOOP_ITEMS,
      max_outbound_requests: LIMITS.MAX_LOOP_ITEMS,
      errors: [],
    });
    expect(flow.plan.max_outbound_requests_per_invocation).toBe(LIMITS.MAX_RUNS_PER_INVOCATION);
    expect(flow.plan.warnings.map((w: any) => [w.code, w.path])).toEqual([
      ["OUTPUT_CAPPED", "actions.0"],
      ["OUTPUT_CAPPED", "actions.0"],
    ]);
    expect(flow.plan.warnings[1].message).toMatch(/1000 items may collect .* an action keeps at most 256 KB/);
  });

  it("warns of subrequests over the Free plan and of model tokens, from a step's max_steps and max_total_tokens (the default contribution)", () => {
    const plan = planFlow({
      loops: [{ id: "l", source_path: "entity.rows", length: 20 }],
      // A type without an entry of its own: the default reads the fields a model-calling step carries.
      actions: [{ id: "step", type: "some_model_step", loop_id: "l", config: { max_steps: 8, max_total_tokens: 60_000 } }],
    });
    expect(plan).toMatchObject({
      max_actions: 20,
      max_outbound_requests: 160,
      max_outbound_requests_per_invocation: 80,
      max_model_tokens: 1_200_000,
    });
    expect(plan.warnings.map((w) => w.code)).toEqual(["SUBREQUESTS", "MODEL_TOKENS"]);
    expect(plan.warnings[0].message).toMatch(/over the Workers Free plan's 50, within Paid's 10000/);
    expect(plan.errors).toEqual([]);
  });

  it("warns of a templated delay (not counted); the platform's actions contribute their requests", () => {
    const plan = planFlow({
      actions: [
        { id: "d", type: "delay", config: { duration: "{{ entity.wait }}", unit: "minutes" } },
        { id: "erp", type: "inform-erp", config: { target_webhook_id: "t" } },
        { id: "reply", type: "reply-email", config: { email_template_id: "e" } },
      ],
    });
    expect(plan.warnings.map((w) => [w.code, w.path])).toEqual([["DELAY_UNKNOWN", "actions.0.config"]]);
    expect(plan).toMatchObject({ total_delay_seconds: 0, max_outbound_requests: 2 });
  });
});

describe("the AI steps", () => {
  const prompt = "Classify this ticket: ".padEnd(400, "x"); // 100 tokens as written

  it("ai_generate: one call of its prompt and max_output_tokens; repairs with an output_schema; max_total_tokens caps it", () => {
    const one = planFlow({ actions: [{ id: "gen", type: "ai_generate", config: { prompt, max_output_tokens: 200 } }] });
    expect(one).toMatchObject({ max_model_tokens: 100 + 200, max_outbound_requests: 1, max_attempts: 4 });
    // Unset, max_output_tokens is the largest a call may ask for.
    const unset = planFlow({ actions: [{ type: "ai_generate", config: { prompt } }] });
    expect(unset.max_model_tokens).toBe(100 + LIMITS.AI_MAX_OUTPUT_TOKENS);

    const schema = { type: "object", properties: { category: { type: "string" } } };
    const schemaTokens = Math.ceil(JSON.stringify(schema).length / 4);
    const calls = 1 + LIMITS.LLM_MAX_REPAIR_ATTEMPTS;
    const structured = planFlow({
      actions: [{ type: "ai_generate", config: { system: "abcd", prompt, max_output_tokens: 200, output_schema: schema } }],
    });
    // Each repair carries the answers before it.
    expect(structured.max_model_tokens).toBe(calls * (1 + 100 + schemaTokens + 200) + (200 * calls * (calls - 1)) / 2);
    expect(structured.max_outbound_requests).toBe(calls);

    const capped = planFlow({
      loops: [{ id: "l", source_path: "entity.rows", length: 5 }],
      actions: [{ type: "ai_generate", loop_id: "l", config: { prompt, output_schema: schema, max_total_tokens: 1_000 } }],
    });
    expect(capped).toMatchObject({ max_model_tokens: 5 * 1_000, max_outbound_requests: 5 * calls });
  });

  it("ai_agent: max_total_tokens per action; max_steps model calls and their tool calls, one request a step", () => {
    // An ai_agent cannot loop (refused on save): two of them add up.
    const agent = (id: string) => ({ id, type: "ai_agent", config: { input: "x", max_steps: 8, max_total_tokens: 600_000 } });
    const plan = planFlow({ actions: [agent("a"), agent("b")] });
    const perRun = 8 + 8 * LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP;
    expect(plan).toMatchObject({
      max_actions: 2,
      max_attempts: 2 * perRun * 4,
      max_outbound_requests: 2 * perRun,
      // Each step is its own run of the object, one request each: an invocation runs at most 10 of them.
      max_outbound_requests_per_invocation: LIMITS.MAX_RUNS_PER_INVOCATION,
      max_model_tokens: 2 * 600_000,
    });
    expect(plan.warnings.map((w) => w.code)).toEqual(["MODEL_TOKENS"]);
    expect(plan.errors).toEqual([]);

    // Without tools only its model calls; without max_steps the default number of them.
    const noTools = planFlow({ actions: [{ type: "ai_agent", config: { input: "x", tools: [], max_total_tokens: 5_000 } }] });
    expect(noTools).toMatchObject({ max_outbound_requests: LIMITS.AI_AGENT_DEFAULT_STEPS, max_model_tokens: 5_000 });
  });

  it("ai_agent without max_total_tokens: its prompt and max_output_tokens per model call, and a warning to set it", () => {
    const plan = planFlow({
      actions: [
        {
          id: "agent",
          type: "ai_agent",
          config: { instructions: "abcd", input: prompt, tools: [], max_output_tokens: 500, max_steps: 3 },
        },
      ],
    });
    expect(plan.max_model_tokens).toBe(3 * (1 + 100 + 500));
    expect(plan.warnings).toEqual([
      expect.objectContaining({ code: "ACTION_WARNING", path: "actions.0.config.max_total_tokens" }),
    ]);
    expect(plan.warnings[0].message).toMatch(/no max_total_tokens/);
  });

  it("the plan of a saved flow counts its AI steps", async () => {
    const flow = await createFlow({
      flow_name: "ai plan",
      actions: [
        { id: "gen", type: "ai_generate", config: { prompt, max_output_tokens: 100 } },
        { id: "agent", type: "ai_agent", config: { input: "x", tools: [], max_steps: 2, max_total_tokens: 3_000 } },
      ],
    });
    expect(flow.plan).toMatchObject({ max_model_tokens: 200 + 3_000, max_outbound_requests: 1 + 2 });
  });
});

describe("a flow that can never run within the limits", () => {
  it("is refused on create and on update with the reason, naming the field; nothing is stored", async () => {
    const body = {
      flow_name: "too long",
      triggers: [{ type: "manual" }],
      loops: [{ id: "l", source_path: "entity.items", length: 5000 }],
      actions: [hook("each", { loop_id: "l" })],
    };
    const res = await call("POST", "/v1/automation/flows", { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("FLOW_OVER_LIMITS");
    expect(res.body.error.message).toMatch(
      /never run within the engine's limits: Loop l declares 5000 items; a loop runs at most 1000/,
    );
    expect(res.body.error.details).toEqual([
      { path: "loops.0.length", location: "json", message: expect.stringMatching(/5000 items/), code: "over_limits" },
    ]);

    const ok = await createFlow({ ...body, loops: [{ id: "l", source_path: "entity.items", length: 10 }] });
    const put = await call("PUT", `/v1/automation/flows/${ok.id}`, { body });
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe("FLOW_OVER_LIMITS");
    expect((await call("GET", `/v1/automation/flows/${ok.id}`)).body.loops[0].length).toBe(10);
    // The planner itself answers with the errors instead of refusing.
    const planned = await call("POST", "/v1/automation/flows:plan", { body });
    expect(planned.status).toBe(200);
    expect(planned.body.errors.map((e: any) => e.code)).toEqual(["LOOP_TOO_LONG"]);
  });

  it("together with other problems, the planner's errors are listed among them (VALIDATION_ERROR)", async () => {
    const res = await call("POST", "/v1/automation/flows", {
      body: {
        flow_name: "two problems",
        triggers: [{ type: "manual" }],
        loops: [{ id: "l", source_path: "entity.items", length: 5000 }],
        actions: [hook("each", { loop_id: "l", config: { url: "http://127.0.0.1/x" } })],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(res.body.error.details.map((d: any) => d.code).sort()).toEqual(["outbound_refused", "over_limits"]);
  });

  it("a record the flow writes with more than a record holds, or a step sending more than one invocation may", () => {
    const big = "x".repeat(LIMITS.MAX_RECORD_BYTES);
    const plan = planFlow({
      actions: [
        { id: "rec", type: "create_record", config: { module: "m", data: { big } } },
        { id: "step", type: "some_model_step", config: { max_steps: 20_000 } },
      ],
    });
    expect(plan.errors.map((e) => [e.code, e.path])).toEqual([
      ["ACTION_OVER_LIMIT", "actions.0.config.data"],
      ["SUBREQUESTS", "actions.1"],
    ]);
    // A templated record is not judged by its template's length.
    expect(
      planFlow({ actions: [{ type: "create_record", config: { module: "m", data: { big: `{{ x }}${big}` } } }] }).errors,
    ).toEqual([]);
  });

  it("bad input to flows:plan is a 400", async () => {
    expect((await call("POST", "/v1/automation/flows:plan", { body: { flow_name: "x" } })).status).toBe(400);
    expect(
      (await call("POST", "/v1/automation/flows:plan", { rawBody: "{", headers: { "content-type": "application/json" } })).status,
    ).toBe(400);
  });
});
