import { describe, expect, it } from "vitest";
import {
  actionLabel,
  canRerun,
  effectOrigin,
  formatBytes,
  formatSeconds,
  planFacts,
  previewSummary,
  repeatNote,
} from "../../console/reruns";
import { planFlow } from "../../src/engine/plan/plan";
import { call } from "../helpers";
import { SINK, createFlow, drive, startExec } from "../support/engine";

/** What the console shows of reruns: the ledger's rows, a preview's summary, the flow's plan (console/reruns.ts). */

describe("the run view", () => {
  it("names each action by its name or its id, never only its type", () => {
    expect(actionLabel({ id: "a1", name: "Notify CRM" })).toBe("Notify CRM");
    expect(actionLabel({ id: "a2" })).toBe("a2");
    expect(actionLabel({ id: "a3", name: "" })).toBe("a3");
  });

  it("offers a rerun where the engine accepts one", () => {
    expect(canRerun("failed", "failed")).toBe(true);
    expect(canRerun("in_progress", "in_progress")).toBe(true); // stuck
    expect(canRerun("success", "failed")).toBe(true); // a restart from a step of an ended run
    expect(canRerun("success", "in_progress")).toBe(false);
    expect(canRerun("failed", "cancelled")).toBe(false);
  });

  it("renders the ledger and a preview of a real run: origin, repeat notes, summary", async () => {
    const flow = await createFlow({
      flow_name: "console ledger",
      retry_policy: { max_attempts: 1 },
      actions: [
        { id: "one", name: "First", type: "call_webhook", config: { url: `${SINK}/console/one` } },
        { id: "two", type: "call_webhook", config: { url: `${SINK}/status/500` } },
      ],
    });
    const id = await startExec(flow.id);
    await drive(id);
    const ledger = (await call("GET", `/v1/automation/executions/${id}/effects`)).body;
    expect(ledger.effects.map(effectOrigin)).toEqual(["First, attempt 1", "two, attempt 1"]);
    expect(ledger.effects.map(repeatNote)).toEqual(["", ""]);
    const preview = (await call("POST", `/v1/automation/executions/${id}/two/retrigger:preview`, { body: {} })).body;
    expect(previewSummary(preview)).toBe(
      "1 action(s) re-executed, 1 reusing recorded outputs, 0 skipped; 1 effect(s) would be sent, 1 repeating an idempotency key already sent; the run would end success.",
    );
    expect(repeatNote(preview.effects[0])).toMatch(/a receiver that deduplicates drops it/);
    expect(repeatNote({ repeats_idempotency_key: true, dedupe: "none" })).toMatch(/it happens again/);
    expect(repeatNote({ repeats_idempotency_key: true, dedupe: "engine" })).toMatch(/writes nothing new/);
    expect(effectOrigin({ action_name: "Loop", iteration: 2, attempt: 3 })).toBe("Loop, item 3, attempt 3");
  });
});

describe("the flow page's plan", () => {
  it("lists every figure of the plan, readable", () => {
    const plan = planFlow({
      loops: [{ id: "l", source_path: "entity.items", length: 5 }],
      schedules: [{ id: "s", numberOfUnits: 2, timePeriod: "days", timeRelation: "after" }],
      actions: [{ id: "h", type: "call_webhook", loop_id: "l", config: { url: "https://x.test" } }],
    });
    expect(planFacts(plan).map((f) => [f.label, f.value])).toEqual([
      ["Actions (worst case)", "5"],
      ["Attempts with retries", "20"],
      ["Outbound requests", "5"],
      ["Requests per invocation", "5 (Free 50, Paid 10000)"],
      ["Largest payload", "160 KB"],
      ["Total delay", "2 days"],
      ["Model tokens", "0"],
      ["Estimated CPU", `${plan.est_cpu_ms} ms`],
    ]);
    expect([formatBytes(512), formatBytes(2048), formatBytes(3 * 1024 * 1024)]).toEqual(["512 B", "2.0 KB", "3.0 MB"]);
    expect([formatSeconds(30), formatSeconds(300), formatSeconds(5400)]).toEqual(["30 s", "5 min", "1.5 h"]);
  });
});
