import { describe, expect, it } from "vitest";
import { call } from "../../helpers";
import { SINK, sinkRequests } from "../../support/engine";
import { CONFIGS, connect } from "../../integrations/support";
import { WF, createWorkflow, newOrg, wf } from "./support";

/** Executing Arrotech workflows: input_data as `{{ variables.x }}`, the executions lists, and what is refused. */

const marker = () => crypto.randomUUID().slice(0, 8);

describe("execute", () => {
  it("input_data is what `{{ variables.x }}` renders, over the workflow's own variables, in outbound calls", async () => {
    const org = newOrg();
    const m = marker();
    const conn = await connect("slack", CONFIGS.slack, org);
    const w = await createWorkflow(org, {
      name: "greet",
      variables: { who: "World", greeting: "Hello" },
      steps: [
        {
          id: "hook",
          tool: "call_webhook",
          params: {
            url: `${SINK}/arro-exec-${m}`,
            body: { text: "{{ variables.greeting }}, {{ variables.who }}", n: "{{ variables.n }}" },
          },
        },
        {
          id: "slack",
          tool: "slack_post_message",
          connection_id: conn.id,
          params: {
            channel: "#general",
            text: "{{ variables.greeting }} {{ trigger.input_data.who }} {{ actions.hook.outputs.status }} " + m,
          },
        },
      ],
    });
    const res = await wf(org).post(`/${w.id}/execute`, { input_data: { greeting: "Hi", n: 7 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      workflow_id: w.id,
      status: "completed",
      execution_status: "success",
      input_data: { greeting: "Hi", n: 7 },
      steps_total: 2,
      steps_executed: 2,
      steps_failed: 0,
      error: null,
      step_results: [
        { step_id: "hook", tool: "call_webhook", status: "success", error: null },
        { step_id: "slack", tool: "slack_post_message", status: "success", error: null },
      ],
    });
    const [hookCall] = await sinkRequests(`/arro-exec-${m}`);
    // A template that is one whole expression keeps the value's type.
    expect(JSON.parse(hookCall.body)).toEqual({ text: "Hi, World", n: 7 });
    const slack = (await sinkRequests("/slack/chat.postMessage")).filter((r) => r.body.includes(m));
    expect(slack).toHaveLength(1);
    expect(JSON.parse(slack[0].body)).toMatchObject({ channel: "#general", text: `Hi  200 ${m}` });
    expect(slack[0].headers.authorization).toBe(`Bearer ${CONFIGS.slack.bot_token}`);
  });

  it("without a body, the workflow's variables are the run's", async () => {
    const org = newOrg();
    const m = marker();
    const w = await createWorkflow(org, {
      name: "defaults",
      variables: { who: "Ada", none: null },
      steps: [
        {
          tool: "call_webhook",
          params: { url: `${SINK}/arro-def-${m}`, body: { who: "{{ variables.who }}", none: "{{ variables.none }}" } },
        },
      ],
    });
    const res = await call("POST", `${WF}/${w.id}/execute`, { org });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.input_data).toEqual({});
    expect(JSON.parse((await sinkRequests(`/arro-def-${m}`))[0].body)).toEqual({ who: "Ada", none: "" });
  });

  it("a failing step fails the execution and says why; continue_on_error goes on", async () => {
    const org = newOrg();
    const m = marker();
    const w = await createWorkflow(org, {
      name: "fails",
      steps: [
        { id: "bad", tool: "call_webhook", params: { url: `${SINK}/status/404` }, continue_on_error: true },
        { id: "ok", tool: "call_webhook", params: { url: `${SINK}/arro-after-${m}` } },
      ],
    });
    const res = await wf(org).post(`/${w.id}/execute`, {});
    expect(res.body.step_results.map((s: any) => [s.step_id, s.status])).toEqual([
      ["bad", "failed"],
      ["ok", "success"],
    ]);
    expect(res.body.step_results[0].error).not.toBeNull();
    expect(await sinkRequests(`/arro-after-${m}`)).toHaveLength(1);
  });

  it("paused and draft workflows are refused with 409 and send nothing; bad bodies are 400", async () => {
    const org = newOrg();
    const m = marker();
    const steps = [{ tool: "call_webhook", params: { url: `${SINK}/arro-off-${m}` } }];
    const paused = await createWorkflow(org, { name: "p", status: "paused", steps });
    const draft = await createWorkflow(org, { name: "d", status: "draft", steps });
    const p = await wf(org).post(`/${paused.id}/execute`, { input_data: {} });
    expect([p.status, p.body.error.code]).toEqual([409, "FLOW_DISABLED"]);
    expect(p.body.error.message).toMatch(/paused/);
    const d = await wf(org).post(`/${draft.id}/execute`, { input_data: {} });
    expect([d.status, d.body.error.code]).toEqual([409, "FLOW_DISABLED"]);
    expect(d.body.error.message).toMatch(/draft/);
    expect(await sinkRequests(`/arro-off-${m}`)).toHaveLength(0);
    const active = await createWorkflow(org, { name: "a", steps });
    for (const body of [{ input_data: "x" }, { input_data: [] }, { other: 1 }]) {
      expect((await wf(org).post(`/${active.id}/execute`, body)).status, JSON.stringify(body)).toBe(400);
    }
    const malformed = await call("POST", `${WF}/${active.id}/execute`, {
      org,
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect((await wf(org).post(`/nope/execute`, {})).status).toBe(404);
    expect(await sinkRequests(`/arro-off-${m}`)).toHaveLength(0);
    expect((await wf(org).get("/executions")).body.total).toBe(0);
  });
});

describe("executions", () => {
  it("lists a workflow's executions and all of the org's, newest first, with status and paging", async () => {
    const org = newOrg();
    const ok = await createWorkflow(org, { name: "ok", steps: [{ tool: "call_webhook", params: { url: `${SINK}/arro-ok` } }] });
    const bad = await createWorkflow(org, {
      name: "bad",
      steps: [{ tool: "call_webhook", params: { url: `${SINK}/status/400` } }],
    });
    const r1 = (await wf(org).post(`/${ok.id}/execute`, {})).body;
    const r2 = (await wf(org).post(`/${bad.id}/execute`, {})).body;
    const r3 = (await wf(org).post(`/${ok.id}/execute`, {})).body;
    expect([r1.status, r2.status, r3.status]).toEqual(["completed", "failed", "completed"]);

    const one = await wf(org).get(`/${ok.id}/executions`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ total: 2, limit: 25, offset: 0 });
    expect(one.body.results.map((e: any) => e.id).sort()).toEqual([r1.id, r3.id].sort());
    expect(one.body.results[0]).toMatchObject({ workflow_id: ok.id, status: "completed", steps_total: 1, steps_executed: 1 });

    const all = await wf(org).get("/executions");
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(new Set(all.body.results.map((e: any) => e.workflow_id))).toEqual(new Set([ok.id, bad.id]));
    const failed = await wf(org).get("/executions?status=failed");
    expect(failed.body.results.map((e: any) => e.id)).toEqual([r2.id]);
    expect(failed.body.results[0].steps_failed).toBe(1);
    const page = await wf(org).get("/executions?limit=1&offset=2");
    expect(page.body).toMatchObject({ total: 3, limit: 1, offset: 2 });
    expect(page.body.results).toHaveLength(1);
    const since = await wf(org).get(`/executions?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(since.body.total).toBe(0);
    for (const q of ["?status=done", "?limit=0", "?since=yesterday"]) {
      expect((await wf(org).get(`/executions${q}`)).status, q).toBe(400);
    }
    // The runs are the engine's executions.
    const native = await call("GET", `/v1/automation/executions/${r2.id}`, { org });
    expect(native.status).toBe(200);
    // Another org sees none of them.
    const other = newOrg();
    expect((await wf(other).get("/executions")).body.total).toBe(0);
    expect((await wf(other).get(`/${ok.id}/executions`)).status).toBe(404);
  });
});
