import { describe, expect, it } from "vitest";
import { SINK, sinkReset, sinkRequests, untilSinkSaw } from "./engine";

// The test sink's wait (GET /__wait behind untilSinkSaw): tests wait for a side effect to start without polling.
describe("the test sink", () => {
  it("answers a wait as soon as a request under the path arrives, and at once for one already recorded", async () => {
    await sinkReset();
    const waiting = untilSinkSaw("/sink-wait/a");
    const sent = await fetch(`${SINK}/sink-wait/a/1`, { method: "POST", body: "{}" });
    expect(sent.status).toBe(200);
    await waiting;
    await untilSinkSaw("/sink-wait/a", 1);
    expect((await sinkRequests("/sink-wait/a")).map((r) => r.path)).toEqual(["/sink-wait/a/1"]);
  });

  it("fails the wait when nothing under the path arrives within the cap", async () => {
    await sinkReset();
    await fetch(`${SINK}/sink-wait/other`);
    await expect(untilSinkSaw("/sink-wait/b", 50)).rejects.toThrow(/never saw \/sink-wait\/b within 50 ms/);
  });
});
