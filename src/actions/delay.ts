import { DelayRunConfig, delayUntil } from "../engine/delay";
import { defineAction } from "./types";

/** Pauses the execution: the engine sets its alarm and continues when it fires. */
export const delayAction = defineAction({
  types: ["delay"],
  config: DelayRunConfig,
  async run(ctx, cfg) {
    return { kind: "wait", until: delayUntil(cfg, ctx.now) };
  },
});
