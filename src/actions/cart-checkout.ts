import { z } from "zod";
import type { Mapping, RelationAttributeSpec } from "../engine/mapping";
import { LIMITS } from "../lib/limits";
import { MappingConfigRef, MappingList, RelationList, mapToTarget, mappingTarget } from "./entity-mapping";
import { recordEffect } from "./records";
import { defineAction, isResult, permanentFailure } from "./types";

/**
 * epilot's cart-checkout (docs/platform.md): turns the execution's cart record into an order. The cart's
 * `line_items` (`[{product_id?, name?, quantity, unit_amount, tax_rate?}]`, amounts in minor units, tax rate in
 * percent) become the order's line items with their amounts, the order gets `amount_subtotal`, `amount_tax`,
 * `amount_total`, `currency` and `status: "placed"`, then the mapping (a `mapping_config` target, then
 * `mapping_attributes`, `relation_attributes`) applies. The order is linked back on the cart
 * (`linkback_relation_attribute`, default `mapped_entities`). A retried attempt finds the order it made (by
 * `checkout_key`, the action's idempotency key) and updates it; with `target_unique` the order is upserted by
 * those attributes instead.
 */

const CartCheckoutConfig = z
  .object({
    version: z.string().optional(),
    mapping_config: MappingConfigRef.optional(),
    mapping_attributes: MappingList.default([]),
    relation_attributes: RelationList.default([]),
    linkback_relation_attribute: z.union([z.string(), z.literal(false)]).optional(),
    linkback_relation_tags: z.array(z.string()).optional(),
    target_unique: z.array(z.string()).optional(),
  })
  .passthrough();

const LineItem = z.looseObject({
  product_id: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  quantity: z.number().positive().default(1),
  unit_amount: z.number().min(0),
  tax_rate: z.number().min(0).max(100).default(0),
});

/** The order's line items and totals from the cart's, or a description of what is wrong with them. */
export function priceCart(items: unknown): { line_items: Record<string, unknown>[]; subtotal: number; tax: number } | string {
  if (!Array.isArray(items) || items.length === 0) return "the cart has no line_items";
  if (items.length > LIMITS.MAX_CART_LINE_ITEMS) return `a cart may have at most ${LIMITS.MAX_CART_LINE_ITEMS} line items`;
  const line_items: Record<string, unknown>[] = [];
  let subtotal = 0;
  let tax = 0;
  for (const [i, raw] of items.entries()) {
    const parsed = LineItem.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return `line_items.${i}.${issue.path.join(".")}: ${issue.message}`;
    }
    const item = parsed.data;
    const amount_subtotal = Math.round(item.quantity * item.unit_amount);
    const amount_tax = Math.round((amount_subtotal * item.tax_rate) / 100);
    line_items.push({ ...item, amount_subtotal, amount_tax, amount_total: amount_subtotal + amount_tax });
    subtotal += amount_subtotal;
    tax += amount_tax;
  }
  return { line_items, subtotal, tax };
}

export const cartCheckoutAction = defineAction({
  types: ["cart-checkout"],
  config: CartCheckoutConfig,
  async run(ctx, cfg) {
    const cart = ctx.entity;
    if (!cart || typeof cart._id !== "string")
      return permanentFailure("ENTITY_NOT_FOUND", "cart-checkout needs a cart record as the execution's entity");
    const priced = priceCart(cart.line_items);
    if (typeof priced === "string") return permanentFailure("ORDER_CREATION_ERROR", `Cart ${cart._id}: ${priced}`);
    const target = cfg.mapping_config ? await mappingTarget(ctx, cfg.mapping_config) : null;
    if (isResult(target)) return target;
    const targetSchema = target?.target_schema ?? "order";
    const base = {
      status: "placed",
      currency: typeof cart.currency === "string" ? cart.currency : "EUR",
      line_items: priced.line_items,
      amount_subtotal: priced.subtotal,
      amount_tax: priced.tax,
      amount_total: priced.subtotal + priced.tax,
      source_cart: [{ entity_id: cart._id, ...(typeof cart._schema === "string" ? { _schema: cart._schema } : {}) }],
      checkout_key: ctx.idempotencyKey,
    };
    const result = await mapToTarget(ctx, {
      targetSchema,
      base,
      mappings: [...(target?.mapping_attributes ?? []), ...(cfg.mapping_attributes as Mapping[])],
      relations: [...(target?.relation_attributes ?? []), ...(cfg.relation_attributes as RelationAttributeSpec[])],
      // With target_unique the order is upserted by those attributes; else a retry finds its order by the key.
      targetUnique: cfg.target_unique ?? target?.target_unique,
      key: (cfg.target_unique ?? target?.target_unique) ? undefined : { attribute: "checkout_key", value: ctx.idempotencyKey },
      linkback: cfg.linkback_relation_attribute ?? target?.linkback_relation_attribute ?? "mapped_entities",
      linkbackTags: cfg.linkback_relation_tags ?? target?.linkback_relation_tags,
    });
    if (result.kind !== "success") {
      return result.kind === "failed" && result.error.error_code === "MAPPING_ERROR"
        ? { ...result, error: { ...result.error, error_code: "ORDER_CREATION_ERROR" } }
        : result;
    }
    const order = result.outputs.record as Record<string, unknown>;
    return {
      ...result,
      outputs: {
        ...result.outputs,
        order_id: result.outputs.entity_id,
        amount_total: order.amount_total,
        currency: order.currency,
        line_items: priced.line_items.length,
      },
    };
  },
  // The order (or the mapping config's target) is upserted by its checkout key or unique attributes.
  effects: async (ctx, cfg) => {
    const target = cfg.mapping_config ? await mappingTarget(ctx, cfg.mapping_config) : null;
    return isResult(target) ? [] : [recordEffect(ctx, target?.target_schema ?? "order", "upsert")];
  },
});
