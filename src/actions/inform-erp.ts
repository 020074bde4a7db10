import { z } from "zod";
import { defineAction, permanentFailure } from "./types";
import { deliverToTarget, plannedTargetEffect } from "./webhook-target";

/**
 * epilot's inform-erp: the execution's entity (with its relations of the `entity_sources` schemas) sent to the
 * ERP's webhook target, `target_webhook_id` (docs/platform.md). With `sync` the ERP's answer becomes the outputs.
 */
export const informErpAction = defineAction({
  types: ["inform-erp"],
  config: z.looseObject({
    target_webhook_id: z.string().optional(),
    entity_sources: z.array(z.string()).optional(),
    sync: z.boolean().optional(),
  }),
  async run(ctx, cfg) {
    if (!cfg.target_webhook_id) return permanentFailure("BAD_CONFIG", "inform-erp needs config.target_webhook_id");
    return deliverToTarget(ctx, {
      targetId: cfg.target_webhook_id,
      entitySources: cfg.entity_sources,
      sync: cfg.sync,
      action: "inform-erp",
    });
  },
  effects: (ctx, cfg) => (cfg.target_webhook_id ? plannedTargetEffect(ctx, cfg.target_webhook_id) : []),
});
