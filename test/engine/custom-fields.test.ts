import { describe, expect, it } from "vitest";
import { CustomFieldError, resolveCustomFields } from "../../src/engine/custom-fields";

function fails(fn: () => unknown): CustomFieldError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CustomFieldError) return e;
    throw e;
  }
  throw new Error("expected a CustomFieldError");
}

describe("custom fields from callData", () => {
  it("resolves the document's example and drops customFields", () => {
    const params = {
      summary: "My Summary",
      startTime: "custom_field_1",
      endTime: "custom_field_2",
      customFields: [
        { field: "startTime", customFieldEnabled: true },
        { field: "endTime", customFieldEnabled: true },
      ],
    };
    const callData = { fields: { custom_field_1: "2025-09-19T07:00:00.000Z", custom_field_2: "2025-09-19T07:30:00.000Z" } };
    expect(resolveCustomFields(params, callData)).toEqual({
      summary: "My Summary",
      startTime: "2025-09-19T07:00:00.000Z",
      endTime: "2025-09-19T07:30:00.000Z",
    });
    expect(params.startTime).toBe("custom_field_1");
  });

  it("keeps the type of the field's value", () => {
    const out = resolveCustomFields(
      {
        n: "count",
        o: "obj",
        customFields: [
          { field: "n", customFieldEnabled: true },
          { field: "o", customFieldEnabled: true },
        ],
      },
      { fields: { count: 3, obj: { a: [1] } } },
    );
    expect(out).toEqual({ n: 3, o: { a: [1] } });
  });

  it("leaves disabled entries and params without customFields alone", () => {
    const params = { a: "k", customFields: [{ field: "a", customFieldEnabled: false }, { field: "a" }] };
    expect(resolveCustomFields(params, { fields: { k: "v" } })).toEqual({ a: "k" });
    const plain = { a: 1 };
    expect(resolveCustomFields(plain, undefined)).toBe(plain);
    expect(resolveCustomFields({ a: 1, customFields: null }, undefined)).toEqual({ a: 1 });
    expect(resolveCustomFields({ a: 1, customFields: [] }, undefined)).toEqual({ a: 1 });
  });

  it.each<
    [string, Record<string, unknown>, { fields?: Record<string, unknown> } | undefined, string, string | undefined, RegExp]
  >([
    [
      "key missing from callData.fields",
      { t: "cf_9", customFields: [{ field: "t", customFieldEnabled: true }] },
      { fields: { cf_1: 1 } },
      "t",
      "cf_9",
      /refers to "cf_9", which is missing from callData.fields/,
    ],
    [
      "no callData at all",
      { t: "cf_1", customFields: [{ field: "t", customFieldEnabled: true }] },
      undefined,
      "t",
      "cf_1",
      /missing from callData.fields/,
    ],
    [
      "callData without fields",
      { t: "cf_1", customFields: [{ field: "t", customFieldEnabled: true }] },
      {},
      "t",
      "cf_1",
      /missing/,
    ],
    [
      "param not set",
      { customFields: [{ field: "t", customFieldEnabled: true }] },
      { fields: {} },
      "t",
      undefined,
      /params.t is not set/,
    ],
    [
      "param is not a key",
      { t: 5, customFields: [{ field: "t", customFieldEnabled: true }] },
      { fields: {} },
      "t",
      undefined,
      /must be the name of a callData.fields key/,
    ],
    ["customFields not a list", { customFields: { field: "t" } }, { fields: {} }, "customFields", undefined, /must be a list/],
    [
      "entry without field",
      { customFields: [{ customFieldEnabled: true }] },
      { fields: {} },
      "customFields.0",
      undefined,
      /\{field: string/,
    ],
    [
      "customFieldEnabled not boolean",
      { t: "k", customFields: [{ field: "t", customFieldEnabled: "yes" }] },
      { fields: { k: 1 } },
      "t",
      undefined,
      /true or false/,
    ],
    [
      "prototype keys are not fields",
      { t: "constructor", customFields: [{ field: "t", customFieldEnabled: true }] },
      { fields: {} },
      "t",
      "constructor",
      /missing/,
    ],
  ])("%s is a clear error", (_l, params, callData, field, key, message) => {
    const e = fails(() => resolveCustomFields(params, callData));
    expect(e.code).toBe("CUSTOM_FIELD_ERROR");
    expect(e.field).toBe(field);
    expect(e.key).toBe(key);
    expect(e.message).toMatch(message);
  });

  it("a param named __proto__ stays data", () => {
    const params = JSON.parse('{"__proto__": "k", "customFields": [{"field": "__proto__", "customFieldEnabled": true}]}');
    const out = resolveCustomFields(params, { fields: { k: { polluted: true } } });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true}}');
  });
});
