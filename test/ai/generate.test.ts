import { beforeEach, describe, expect, it } from "vitest";
import { sinkReset } from "../support/engine";
import { call } from "../helpers";
import { modelCalls, modelConnection, runOne, type Wire } from "./support";

beforeEach(sinkReset);

const SCHEMA = {
  type: "object",
  required: ["category", "priority"],
  properties: { category: { enum: ["billing", "bug", "question"] }, priority: { type: "integer", minimum: 1, maximum: 5 } },
};
const TICKET = "I was charged twice for my invoice, please refund ASAP (ada@example.com)";

describe("ai_generate", () => {
  for (const wire of ["openai", "anthropic"] as Wire[])
    for (const stream of [false, true])
      it(`answers text (${wire}, ${stream ? "streamed" : "not streamed"}) with usage, model and finish reason`, async () => {
        const conn = await modelConnection("classify", { wire });
        const exec = await runOne({
          type: "ai_generate",
          config: {
            connection_id: conn.id,
            system: "Classify tickets.",
            prompt: "Ticket: {{ variables.ticket | default: 'none' }}",
            stream,
          },
        });
        expect(exec.execution_status, JSON.stringify(exec.actions[0])).toBe("success");
        const out = exec.actions[0].outputs;
        expect(JSON.parse(out.text)).toMatchObject({ category: "question", priority: 3 });
        expect(out.model).toBe(wire === "openai" ? "scripted" : "claude-scripted");
        expect(out.finish_reason).toBe("stop");
        expect(out.usage.total_tokens).toBe(out.usage.input_tokens + out.usage.output_tokens);
        expect(out.usage.input_tokens).toBeGreaterThan(0);
        expect(exec.llm_usage).toEqual(out.usage);
        const calls = await modelCalls(conn.path);
        expect(calls).toHaveLength(1);
        expect(calls[0].headers["idempotency-key"]).toBe(`${exec.id}:ai`);
        expect(Boolean(calls[0].body.stream)).toBe(stream);
        const system = wire === "openai" ? calls[0].body.messages[0].content : JSON.stringify(calls[0].body.system);
        expect(system).toContain("Classify tickets.");
      });

  it("returns an object matching output_schema, readable by later actions", async () => {
    const conn = await modelConnection("classify");
    const flow = await call("POST", "/v1/automation/flows", {
      org: "org-a",
      body: {
        flow_name: "classify then echo",
        triggers: [{ type: "manual" }],
        actions: [
          { id: "classify", type: "ai_generate", config: { connection_id: conn.id, prompt: TICKET, output_schema: SCHEMA } },
          {
            id: "echo",
            type: "call_webhook",
            config: { url: "http://sink.test/echo", body: { category: "{{ actions.classify.outputs.object.category }}" } },
          },
        ],
      },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const { startExec, drive } = await import("../support/engine");
    const exec = await drive(await startExec(flow.body.id));
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs.object).toEqual({ category: "billing", priority: 1, summary: TICKET.slice(0, 60) });
    expect(exec.actions[0].outputs.repairs).toBe(0);
    expect(exec.actions[1].outputs.body.received).toEqual({ category: "billing" });
    const calls = await modelCalls(conn.path);
    expect(calls[0].body.messages[0].content).toContain('"required":["category","priority"]');
  });

  it("sends an invalid answer back for repair, then accepts the repaired one", async () => {
    const conn = await modelConnection("classify-repair", { wire: "anthropic" });
    const exec = await runOne({ type: "ai_generate", config: { connection_id: conn.id, prompt: TICKET, output_schema: SCHEMA } });
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs.object.priority).toBe(1);
    expect(exec.actions[0].outputs.repairs).toBe(1);
    const calls = await modelCalls(conn.path);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.headers["idempotency-key"])).toEqual([`${exec.id}:ai`, `${exec.id}:ai:repair-1`]);
    expect(JSON.stringify(calls[1].body.messages)).toContain("/priority");
    // Both calls' tokens are the action's.
    const attempts = exec.actions[0].attempts;
    expect(attempts).toHaveLength(1);
    expect(exec.actions[0].outputs.usage.total_tokens).toBeGreaterThan(0);
  });

  it("fails INVALID_OUTPUT after the bounded repairs, without retrying", async () => {
    const conn = await modelConnection("classify-never");
    const exec = await runOne({ type: "ai_generate", config: { connection_id: conn.id, prompt: TICKET, output_schema: SCHEMA } });
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output.error_code).toBe("INVALID_OUTPUT");
    expect(exec.actions[0].error_output.error_info.errors[0]).toContain("no JSON object");
    expect(await modelCalls(conn.path)).toHaveLength(4); // the answer and 3 repairs (LLM_MAX_REPAIR_ATTEMPTS)
    expect(exec.actions[0].attempts_total).toBe(1);
  });

  it("refuses an unknown connection as BAD_CONFIG and sends nothing", async () => {
    const exec = await runOne({ type: "ai_generate", config: { connection_id: "no-such-connection", prompt: "hi" } });
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG" });
    expect(exec.actions[0].error_output.error_reason).toContain("no-such-connection");
  });

  it("refuses a bad output_schema and unknown keys when the flow is written", async () => {
    for (const config of [
      { prompt: "x", output_schema: { type: "array" } },
      { prompt: "x", output_schema: { $ref: "#/nowhere" } },
      { prompt: "x", temprature: 1 },
      { prompt: "x", max_output_tokens: 0 },
      {},
    ]) {
      const res = await call("POST", "/v1/automation/flows", {
        org: "org-a",
        body: { flow_name: "bad", triggers: [{ type: "manual" }], actions: [{ type: "ai_generate", config }] },
      });
      expect(res.status, JSON.stringify(config)).toBe(400);
      expect(res.body.error.details.length).toBeGreaterThan(0);
    }
  });
});
