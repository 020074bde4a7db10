import { z } from "zod";
import { defineAction } from "./types";

/** Coherence's delay units with their maxima. */
export const DELAY_UNITS = {
  seconds: [1000, 86_400],
  minutes: [60_000, 1_440],
  hours: [3_600_000, 24],
  days: [86_400_000, 7],
} as const;

const DelayConfig = z
  .object({ duration: z.coerce.number().positive(), unit: z.enum(["seconds", "minutes", "hours", "days"]).default("seconds") })
  .superRefine((c, ctx) => {
    const max = DELAY_UNITS[c.unit][1];
    if (c.duration > max) ctx.addIssue({ code: "custom", path: ["duration"], message: `A delay in ${c.unit} is at most ${max}` });
  });

/** Pauses the execution: the engine sets its alarm and continues when it fires. */
export const delayAction = defineAction({
  types: ["delay"],
  config: DelayConfig,
  async run(ctx, cfg) {
    const until = ctx.now + cfg.duration * DELAY_UNITS[cfg.unit][0];
    return { kind: "wait", until };
  },
});
