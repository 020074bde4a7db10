import { z } from "zod";
import { defineAction, permanentFailure } from "./types";

/**
 * Action types whose effect needs a provider integration that is not set up. They fail clearly
 * instead of pretending to have sent anything.
 */
export const NOT_CONFIGURED_TYPES = ["cart-checkout"] as const;

export const notConfiguredAction = defineAction({
  types: NOT_CONFIGURED_TYPES,
  config: z.record(z.string(), z.unknown()),
  async run(ctx) {
    return permanentFailure("BAD_CONFIG", `Action ${ctx.actionId}: this action type needs an integration that is not configured`);
  },
});
