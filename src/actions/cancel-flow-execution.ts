import { z } from "zod";
import { defineAction } from "./types";

/** epilot's cancel-flow-execution: ends the running execution as `cancelled` with the selected reasons. */
export const cancelFlowExecutionAction = defineAction({
  types: ["cancel-flow-execution"],
  config: z
    .object({
      selected_reasons: z.array(z.object({ id: z.string(), title: z.string() })).default([]),
      extra_description: z.string().optional(),
    })
    .passthrough(),
  async run(_ctx, cfg) {
    const reasons = cfg.selected_reasons.map((r) => r.title).join(", ");
    const reason = [reasons, cfg.extra_description].filter(Boolean).join(": ") || "Cancelled by the flow";
    return { kind: "cancel_execution", reason };
  },
});
