import { matchText } from "../engine/event-waits";
import type { WaitSpecState } from "../engine/execution/types";
import { durationMs } from "../lib/duration";
import { WaitForEventConfig, waitSpecsOf } from "../schemas/actions/wait-for-event";
import { defineAction } from "./types";

/**
 * Pauses the execution until a matching event arrives or the timeout passes (engine/execution/event-wait.ts
 * decides; the object indexes the wait and delivers events). The config's templates are rendered already:
 * the correlation value is fixed here, as text, for the whole wait.
 */
export const waitForEventAction = defineAction({
  types: ["wait_for_event"],
  config: WaitForEventConfig,
  async run(ctx, cfg) {
    const specs: WaitSpecState[] = waitSpecsOf(cfg).map((s) => ({
      event: s.event,
      ...(s.correlate ? { correlate: { event_path: s.correlate.event_path, value: matchText(s.correlate.value)! } } : {}),
      ...(s.if ? { if: s.if } : {}),
    }));
    const lookback = cfg.lookback ? durationMs(cfg.lookback) : 0;
    return {
      kind: "wait_event",
      wait: {
        specs,
        mode: cfg.mode,
        single: cfg.events === undefined,
        since: ctx.now - lookback,
        until: ctx.now + durationMs(cfg.timeout),
        on_timeout: cfg.on_timeout,
      },
    };
  },
});
