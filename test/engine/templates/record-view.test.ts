import { describe, expect, it } from "vitest";
import { evaluateSimpleConditions, evaluateStatement } from "../../../src/engine/conditions";
import { RECORD_ALIASES, recordRoots, recordView } from "../../../src/engine/record-view";
import { renderValue } from "../../../src/engine/templates";

const NOW = Date.UTC(2024, 0, 15, 10, 0, 0);

/** A record as records.toSnapshot stores it: the `_` envelope, then the attributes. */
const snapshot: Record<string, unknown> = {
  _id: "0b7e4c1a-0000-4000-8000-000000000001",
  _title: "Jane Doe",
  _org: "org-a",
  _schema: "contact",
  _tags: ["vip"],
  _created_at: "2024-05-01T10:00:00.000Z",
  _updated_at: "2024-05-02T08:30:00.000Z",
  name: "Jane Doe",
};

describe("recordView", () => {
  it("reads every envelope field by its plain name as well as its `_` name", () => {
    const view = recordView(snapshot);
    for (const [alias, field] of Object.entries(RECORD_ALIASES)) expect(view[alias]).toEqual(snapshot[field]);
    expect(view._id).toBe(snapshot._id);
    expect(view._created_at).toBe(snapshot._created_at);
  });

  it("leaves the serialized record and its keys unchanged, and the snapshot itself untouched", () => {
    const view = recordView(snapshot);
    expect(Object.keys(view)).toEqual(Object.keys(snapshot));
    expect(JSON.parse(JSON.stringify(view))).toEqual(snapshot);
    expect(Object.prototype.hasOwnProperty.call(snapshot, "id")).toBe(false);
  });

  it("never overwrites an attribute of the same name", () => {
    const view = recordView<Record<string, unknown>>({ ...snapshot, id: "crm-42", title: "Ms" });
    expect(view.id).toBe("crm-42");
    expect(view.title).toBe("Ms");
    expect(view.created_at).toBe(snapshot._created_at);
    expect(Object.keys(view)).toContain("id");
  });

  it("adds no alias for an envelope field the record lacks, and passes null/undefined and plain objects through", () => {
    const inline: Record<string, unknown> = { _id: "e1", name: "x" };
    const view = recordView(inline);
    expect(view.id).toBe("e1");
    expect(Object.prototype.hasOwnProperty.call(view, "created_at")).toBe(false);
    const plain = { name: "no envelope" };
    expect(recordView(plain)).toBe(plain);
    expect(recordView(null)).toBeNull();
    expect(recordView(undefined)).toBeUndefined();
    expect(recordRoots(null)).toEqual({ entity: null, record: undefined });
  });

  it("is idempotent and keeps a `__proto__` attribute as plain data", () => {
    const view = recordView(snapshot);
    expect(recordView(view)).toBe(view);
    const odd = JSON.parse('{"_id":"e2","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const oddView = recordView(odd);
    expect(Object.getPrototypeOf(oddView)).toBe(Object.prototype);
    expect(oddView.id).toBe("e2");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("the aliases in templates and conditions", () => {
  const { entity, record } = recordRoots(snapshot);

  it("render in templates under record. and entity., with the `_` names and type preservation", () => {
    const out = renderValue(
      {
        id: "{{ record.id }}",
        entity_id: "{{ entity.id }}",
        underscore: "{{ record._id }}",
        created: "{{ record.created_at | date_format: 'MMM D, YYYY' }}",
        tags: "{{ record.tags }}",
        text: "{{ record.schema }}/{{ record.updated_at }}",
        whole: "{{ record }}",
      },
      { record, entity, now: NOW },
    ).value as Record<string, unknown>;
    expect(out).toEqual({
      id: snapshot._id,
      entity_id: snapshot._id,
      underscore: snapshot._id,
      created: "May 1, 2024",
      tags: ["vip"],
      text: `contact/${String(snapshot._updated_at)}`,
      // The whole record serializes as stored: no duplicated alias keys.
      whole: expect.objectContaining({ _id: snapshot._id, name: "Jane Doe" }),
    });
    expect(Object.keys(out.whole as object)).toEqual(Object.keys(snapshot));
  });

  it("resolve in Coherence conditions (bare, record. and entity. paths) and epilot statements", () => {
    const simple = evaluateSimpleConditions(
      [
        { field: "id", operator: "equals", value: snapshot._id },
        { field: "record.created_at", operator: "less_than", value: "2024-06-01T00:00:00Z" },
        { field: "entity.schema", operator: "equals", value: "contact" },
      ],
      { entity, now: NOW },
    );
    expect(simple.statements.map((s) => [s.actual_value, s.passed])).toEqual([
      [snapshot._id, true],
      [snapshot._created_at, true],
      ["contact", true],
    ]);
    const st = evaluateStatement(
      {
        source: { attribute: "created_at", attributeType: "datetime" },
        operation: "greater_than",
        values: ["2024-04-30T00:00:00Z"],
      },
      { entity, now: NOW },
    );
    expect(st).toMatchObject({ passed: true, actual_value: snapshot._created_at });
  });

  it("without the view, the plain names are missing (what the view fixes)", () => {
    const out = renderValue({ id: "{{ record.id }}" }, { record: snapshot, now: NOW }).value;
    expect(out).toEqual({ id: "" });
  });
});
