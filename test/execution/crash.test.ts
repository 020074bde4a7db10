import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { SINK, createFlow, drive, executionStub, sinkRequests, sinkReset, startExec, untilSinkSaw } from "../support/engine";

beforeEach(sinkReset);

describe("a crash mid-action", () => {
  it("resumes after the object is evicted while the request is in flight: the attempt is recorded as interrupted and retried with the same key", async () => {
    const flow = await createFlow({
      flow_name: "crashy",
      actions: [
        { id: "slow", type: "call_webhook", config: { url: `${SINK}/slow/400`, timeout_ms: 5000 } },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after` } },
      ],
    });
    const id = await startExec(flow.id);
    const stub = executionStub(id);
    const running = runDurableObjectAlarm(stub).catch((e: unknown) => e);
    await untilSinkSaw("/slow");
    await abortAllDurableObjects(); // the runtime dies: in-memory state and the running invocation are gone
    await running; // rejected by the abort: the invocation died mid-request

    const exec = await drive(id);
    expect(exec.execution_status).toBe("success");
    const attempts = exec.actions[0].attempts;
    expect(attempts.map((a: any) => a.outcome)).toEqual(["interrupted", "success"]);
    const hits = await sinkRequests("/slow");
    expect(hits.length).toBe(attempts.length); // one request per recorded attempt
    expect(new Set(hits.map((h) => h.headers["idempotency-key"]))).toEqual(new Set([`${id}:slow`]));
    expect((await sinkRequests("/after")).length).toBe(1);
    const log = await executionStub(id).eventLog(); // a stub from before the abort is dead
    expect(log.map((e) => e.type)).toContain("action_interrupted");
  });
});
