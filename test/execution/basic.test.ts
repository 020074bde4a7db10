import { beforeEach, describe, expect, it } from "vitest";
import { SINK, createFlow, drive, sinkRequests, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

describe("execution basics", () => {
  it("runs two webhook actions in order with idempotency keys and finishes success", async () => {
    const flow = await createFlow({
      flow_name: "two hooks",
      actions: [
        { id: "a1", type: "call_webhook", config: { url: `${SINK}/hook/one`, body: { n: 1 } } },
        {
          id: "a2",
          type: "trigger-webhook",
          config: { url: `${SINK}/hook/two`, method: "PUT", body: { prev: "{{ actions.a1.outputs.status }}" } },
        },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await drive(id);
    expect(exec.execution_status).toBe("success");
    expect(exec.status).toBe("success");
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["success", "success"]);
    const reqs = await sinkRequests("/hook");
    expect(reqs.map((r) => [r.method, r.path])).toEqual([
      ["POST", "/hook/one"],
      ["PUT", "/hook/two"],
    ]);
    expect(reqs[0].headers["idempotency-key"]).toBe(`${id}:a1`);
    expect(JSON.parse(reqs[1].body)).toEqual({ prev: 200 });
  });
});
