import { z } from "zod";
import { activePartners, shareEntity } from "../store/partners";
import type { SideEffect } from "../engine/reruns/side-effects";
import { defineAction, permanentFailure, type EffectContext } from "./types";

/** The record shared with a partner organization: sharing again only updates its time (the engine drops the repeat). */
const shareEffect = (ctx: Pick<EffectContext, "idempotencyKey">, partner: string): SideEffect => ({
  kind: "record",
  target: `share/${partner}`,
  operation: "share",
  idempotency_key: ctx.idempotencyKey,
  dedupe: "engine",
});

/**
 * epilot's trigger-share-entity (docs/platform.md): shares the execution's record read-only with each partner
 * organization of `partner_org_ids`. Every one must be an active partner (both organizations asked): otherwise
 * nothing is shared and the action fails with SHARING_ERROR naming them. Sharing again only updates the time.
 */
export const triggerShareEntityAction = defineAction({
  types: ["trigger-share-entity"],
  config: z.looseObject({ partner_org_ids: z.array(z.string()).default([]) }),
  async run(ctx, cfg) {
    const partners = [...new Set(cfg.partner_org_ids)];
    if (partners.length === 0) return permanentFailure("BAD_CONFIG", "trigger-share-entity needs config.partner_org_ids");
    const schema = typeof ctx.entity?._schema === "string" ? ctx.entity._schema : undefined;
    if (!schema || !ctx.entityId)
      return permanentFailure("ENTITY_NOT_FOUND", "trigger-share-entity shares the execution's record; it has none");
    const active = await activePartners(ctx.env.DB, ctx.orgId, partners);
    const missing = partners.filter((p) => !active.has(p));
    if (missing.length) {
      return permanentFailure(
        "SHARING_ERROR",
        `Not a partner: ${missing.join(", ")} (a partnership is active once both organizations asked for it with POST /v1/partners)`,
        { partner_org_ids: missing },
      );
    }
    const at = new Date(ctx.now).toISOString();
    await shareEntity(ctx.env.DB, ctx.orgId, partners, { id: ctx.entityId, schema }, `automation:${ctx.executionId}`, at);
    return {
      kind: "success",
      outputs: { entity_id: ctx.entityId, entity_schema: schema, shared_with: partners, shared_at: at },
      effects: partners.map((p) => ({ ...shareEffect(ctx, p), ref: `${schema}/${ctx.entityId}`, outcome: "ok" as const })),
    };
  },
  effects: (ctx, cfg) => [...new Set(cfg.partner_org_ids)].map((p) => shareEffect(ctx, p)),
});
