import { z } from "zod";
import { DELAY_MAX } from "../schemas/actions/engine";
import { defineAction } from "./types";

/** Milliseconds per delay unit; the maxima are Coherence's (DELAY_MAX, shared with the flow schema). */
const UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

const DelayConfig = z
  .object({ duration: z.coerce.number().positive(), unit: z.enum(["seconds", "minutes", "hours", "days"]).default("seconds") })
  .superRefine((c, ctx) => {
    const max = DELAY_MAX[c.unit];
    if (c.duration > max) ctx.addIssue({ code: "custom", path: ["duration"], message: `A delay in ${c.unit} is at most ${max}` });
  });

/** Pauses the execution: the engine sets its alarm and continues when it fires. */
export const delayAction = defineAction({
  types: ["delay"],
  config: DelayConfig,
  async run(ctx, cfg) {
    const until = ctx.now + cfg.duration * UNIT_MS[cfg.unit];
    return { kind: "wait", until };
  },
});
