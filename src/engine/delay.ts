import { z } from "zod";
import { DELAY_MAX } from "../schemas/actions/engine";

/** Milliseconds per delay unit. */
const UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

/**
 * A `delay` action's rendered config, as it is checked when the action runs (the flow schema accepts
 * templates; this is what they must render to). The maxima are Coherence's (DELAY_MAX). Shared by the
 * action handler and the dry run, so both compute the same wake-up time.
 */
export const DelayRunConfig = z
  .object({ duration: z.coerce.number().positive(), unit: z.enum(["seconds", "minutes", "hours", "days"]).default("seconds") })
  .superRefine((c, ctx) => {
    const max = DELAY_MAX[c.unit];
    if (c.duration > max) ctx.addIssue({ code: "custom", path: ["duration"], message: `A delay in ${c.unit} is at most ${max}` });
  });
export type DelayRunConfig = z.infer<typeof DelayRunConfig>;

/** When a delay that starts at `now` is over. */
export function delayUntil(cfg: DelayRunConfig, now: number): number {
  return now + cfg.duration * UNIT_MS[cfg.unit];
}
