import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { actionHandler } from "../../src/actions/registry";
import type { ActionContext } from "../../src/actions/types";
import { call } from "../helpers";
import { createRecord } from "../support/engine";
import { create, flowIn, freshOrg, refusedFlow, runFlow } from "./support";

const CONFIG = {
  name: "Submission to contact",
  source_schema: "submission",
  targets: [
    {
      id: "contact",
      target_schema: "contact",
      target_unique: ["email"],
      mapping_attributes: [
        { target: "email", operation: { _copy: "email" } },
        { mode: "copy_if_exists", target: "first_name", source: "first_name" },
      ],
      relation_attributes: [{ target: "billing_accounts", mode: "append", source_filter: { relation_tag: "billing" } }],
      linkback_relation_attribute: "contacts",
    },
    { target_schema: "opportunity", mapping_attributes: [{ target: "title", operation: { _set: "New lead" } }] },
  ],
};

describe("mapping configs: resource", () => {
  it("creates with target ids, versions changes of targets, keeps ids, deletes", async () => {
    const org = freshOrg();
    const c = await create(org, "/v1/mapping-configs", CONFIG);
    expect(c).toMatchObject({ name: "Submission to contact", source_schema: "submission", version: 1 });
    expect(c.targets.map((t: any) => t.id)).toEqual(["contact", expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    const renamed = await call("PATCH", `/v1/mapping-configs/${c.id}`, { org, body: { name: "Renamed" } });
    expect(renamed.body).toMatchObject({ name: "Renamed", version: 1 });
    const retargeted = await call("PATCH", `/v1/mapping-configs/${c.id}`, {
      org,
      body: { targets: CONFIG.targets.map((t) => ({ ...t, id: undefined })) },
    });
    expect(retargeted.body.version).toBe(2);
    expect(retargeted.body.targets.map((t: any) => t.id)).toEqual(c.targets.map((t: any) => t.id));
    expect((await call("GET", "/v1/mapping-configs", { org })).body.total).toBe(1);
    expect((await call("DELETE", `/v1/mapping-configs/${c.id}`, { org })).status).toBe(200);
    expect((await call("GET", `/v1/mapping-configs/${c.id}`, { org })).status).toBe(404);
  });

  it("refuses bad input naming the field; another organization's ids are 404", async () => {
    const org = freshOrg();
    const cases: [unknown, string][] = [
      [{ ...CONFIG, targets: [] }, "targets"],
      [{ ...CONFIG, source_schema: "Bad Schema" }, "source_schema"],
      [
        {
          ...CONFIG,
          targets: [
            { id: "a", target_schema: "x" },
            { id: "a", target_schema: "y" },
          ],
        },
        "targets.1.id",
      ],
      [{ ...CONFIG, targets: [{ target_schema: "x", mapping_attributes: [{ target: "a" }] }] }, "targets.0.mapping_attributes.0"],
      [
        { ...CONFIG, targets: [{ target_schema: "x", relation_attributes: [{ target: "a", mode: "merge" }] }] },
        "targets.0.relation_attributes.0.mode",
      ],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/mapping-configs", { org, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(
        res.body.error.details.map((d: any) => d.path),
        JSON.stringify(res.body),
      ).toContain(path);
    }
    const c = await create(org, "/v1/mapping-configs", CONFIG);
    const other = freshOrg();
    expect((await call("GET", `/v1/mapping-configs/${c.id}`, { org: other })).status).toBe(404);
    expect((await call("PATCH", `/v1/mapping-configs/${c.id}`, { org: other, body: { name: "x" } })).status).toBe(404);
    expect((await call("DELETE", `/v1/mapping-configs/${c.id}`, { org: other })).status).toBe(404);
    expect(
      await refusedFlow(other, [
        { type: "map-entity", config: { target_schema: "contact", mapping_config: { config_id: c.id, target_id: "contact" } } },
      ]),
    ).toEqual([expect.objectContaining({ path: "actions.0.config.mapping_config.config_id", code: "unknown_reference" })]);
    expect(
      await refusedFlow(org, [
        { type: "map-entity", config: { target_schema: "contact", mapping_config: { config_id: c.id, target_id: "nope" } } },
      ]),
    ).toEqual([expect.objectContaining({ path: "actions.0.config.mapping_config.target_id" })]);
  });
});

describe("map-entity with mapping_config and relation_attributes", () => {
  it("applies the config's target, then the action's own mappings; writes relations picked by the filters", async () => {
    const org = freshOrg();
    const billing = await createRecord("account", { name: "Billing" }, org);
    const other = await createRecord("account", { name: "Other" }, org);
    const sub = await createRecord(
      "submission",
      {
        email: "ada@example.com",
        first_name: "Ada",
        accounts: [
          { entity_id: billing._id, _tags: ["billing"] },
          { entity_id: other._id, _tags: ["shipping"] },
        ],
      },
      org,
    );
    const c = await create(org, "/v1/mapping-configs", CONFIG);
    const flow = await flowIn(org, [
      {
        id: "map",
        type: "map-entity",
        config: {
          target_schema: "contact",
          mapping_config: { config_id: c.id, target_id: "contact", version: 1 },
          mapping_attributes: [{ target: "source", operation: { _set: "web" } }],
          relation_attributes: [{ target: "origin", mode: "set", target_tags: ["lead"], source_filter: { self: true } }],
        },
      },
    ]);
    const exec = await runFlow(org, flow.id, sub._id);
    expect(exec.execution_status, JSON.stringify(exec.actions[0].error_output)).toBe("success");
    const contactId = exec.actions[0].outputs.entity_id;
    const contact = (await call("GET", `/v1/entities/contact/${contactId}`, { org })).body;
    expect(contact).toMatchObject({
      email: "ada@example.com",
      first_name: "Ada",
      source: "web",
      billing_accounts: [{ entity_id: billing._id, _schema: "account" }],
      origin: [{ entity_id: sub._id, _schema: "submission", _tags: ["lead"] }],
    });
    // The config's linkback attribute, on the submission.
    expect((await call("GET", `/v1/entities/submission/${sub._id}`, { org })).body.contacts).toEqual([
      { entity_id: contactId, _schema: "contact" },
    ]);
    // A second run finds the contact by target_unique (email) and appends relations without repeating them.
    const again = await runFlow(org, flow.id, sub._id);
    expect(again.actions[0].outputs).toMatchObject({ entity_id: contactId, operation: "updated" });
    expect((await call("GET", `/v1/entities/contact/${contactId}`, { org })).body.billing_accounts).toHaveLength(1);
  });

  it("fails with a clear error for a stale version, another source schema, or a config deleted later", async () => {
    const org = freshOrg();
    const sub = await createRecord("submission", { email: "x@example.com" }, org);
    const lead = await createRecord("lead", { email: "y@example.com" }, org);
    const c = await create(org, "/v1/mapping-configs", CONFIG);
    const stale = await flowIn(org, [
      {
        id: "m",
        type: "map-entity",
        config: { target_schema: "contact", mapping_config: { config_id: c.id, target_id: "contact", version: 7 } },
      },
    ]);
    const plain = await flowIn(org, [
      {
        id: "m",
        type: "map-entity",
        config: { target_schema: "contact", mapping_config: { config_id: c.id, target_id: "contact" } },
      },
    ]);
    expect((await runFlow(org, stale.id, sub._id)).actions[0].error_output).toMatchObject({ error_code: "MAPPING_ERROR" });
    const wrong = await runFlow(org, plain.id, lead._id);
    expect(wrong.actions[0].error_output.error_reason).toContain("maps submission records");
    await call("DELETE", `/v1/mapping-configs/${c.id}`, { org });
    expect((await runFlow(org, plain.id, sub._id)).actions[0].error_output).toMatchObject({
      error_code: "BAD_CONFIG",
      error_info: { code: "MAPPING_CONFIG_NOT_FOUND" },
    });
  });
});

const CART = {
  currency: "EUR",
  line_items: [
    { product_id: "p-1", name: "Solar panel", quantity: 12, unit_amount: 19900, tax_rate: 19 },
    { product_id: "p-2", name: "Installation", unit_amount: 150000 },
  ],
};

describe("cart-checkout", () => {
  it("turns the cart into an order with its line items and totals, mapped, and linked back on the cart", async () => {
    const org = freshOrg();
    const cart = await createRecord("cart", { ...CART, customer_email: "ada@example.com" }, org);
    const c = await create(org, "/v1/mapping-configs", {
      name: "Cart to order",
      source_schema: "cart",
      targets: [
        {
          id: "order",
          target_schema: "order",
          mapping_attributes: [{ target: "billing_email", operation: { _copy: "customer_email" } }],
        },
      ],
    });
    const flow = await flowIn(org, [
      {
        id: "checkout",
        type: "cart-checkout",
        config: {
          mapping_config: { config_id: c.id, target_id: "order" },
          mapping_attributes: [{ mode: "set_value", target: "channel", value: "journey" }],
          linkback_relation_attribute: "orders",
        },
      },
    ]);
    const exec = await runFlow(org, flow.id, cart._id);
    expect(exec.execution_status, JSON.stringify(exec.actions[0].error_output)).toBe("success");
    const out = exec.actions[0].outputs;
    // 12 × 199.00 = 2,388.00 + 19 % = 453.72; installation 1,500.00 without tax.
    expect(out).toMatchObject({
      operation: "created",
      target_schema: "order",
      amount_total: 238800 + 45372 + 150000,
      currency: "EUR",
      line_items: 2,
    });
    const order = (await call("GET", `/v1/entities/order/${out.order_id}`, { org })).body;
    expect(order).toMatchObject({
      status: "placed",
      amount_subtotal: 388800,
      amount_tax: 45372,
      amount_total: 434172,
      billing_email: "ada@example.com",
      channel: "journey",
      source_cart: [{ entity_id: cart._id, _schema: "cart" }],
      line_items: [
        { product_id: "p-1", quantity: 12, amount_subtotal: 238800, amount_tax: 45372, amount_total: 284172 },
        { product_id: "p-2", quantity: 1, amount_subtotal: 150000, amount_tax: 0, amount_total: 150000 },
      ],
    });
    expect((await call("GET", `/v1/entities/cart/${cart._id}`, { org })).body.orders).toEqual([
      { entity_id: out.order_id, _schema: "order" },
    ]);

    // A second attempt of the same action (same key) updates the order it made instead of placing another.
    const ctx: ActionContext = {
      env,
      orgId: org,
      executionId: exec.id,
      flowId: flow.id,
      actionId: "checkout",
      attempt: 2,
      idempotencyKey: `${exec.id}:checkout`,
      now: Date.now(),
      depth: 0,
      entityId: cart._id,
      entity: (await call("GET", `/v1/entities/cart/${cart._id}`, { org })).body,
      triggerEvent: {},
      issueResumeToken: async () => ({ token: "", hash: "" }),
      templateContext: () => ({ now: Date.now() }),
    };
    const second = await actionHandler("cart-checkout")!.run(ctx, { mapping_attributes: [], relation_attributes: [] });
    expect(second).toMatchObject({ kind: "success", outputs: { order_id: out.order_id, operation: "updated" } });
    expect((await call("GET", "/v1/entities/order", { org })).body.total).toBe(1);
  });

  it("fails with ORDER_CREATION_ERROR for a cart without valid line items", async () => {
    const org = freshOrg();
    const empty = await createRecord("cart", { currency: "EUR" }, org);
    const bad = await createRecord("cart", { line_items: [{ name: "x", unit_amount: -5 }] }, org);
    const flow = await flowIn(org, [{ id: "c", type: "cart-checkout", config: {} }]);
    const e1 = await runFlow(org, flow.id, empty._id);
    expect(e1.actions[0].error_output).toMatchObject({ error_code: "ORDER_CREATION_ERROR" });
    const e2 = await runFlow(org, flow.id, bad._id);
    expect(e2.actions[0].error_output.error_reason).toContain("line_items.0.unit_amount");
    expect((await call("GET", "/v1/entities/order", { org })).body.total).toBe(0);
  });
});
