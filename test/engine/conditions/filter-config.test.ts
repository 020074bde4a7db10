import { describe, expect, it } from "vitest";
import { type EntityOperationEvent, matchFilterConfig, validateFilterConfig } from "../../../src/engine/conditions";
import { LIMITS } from "../../../src/lib/limits";

/** Runs an EventBridge pattern against an event through filter_config's `payload` (the entity). */
const pattern = (p: Record<string, unknown>, entity: Record<string, unknown>) => {
  expect(validateFilterConfig({ operation: { payload: p } })).toEqual([]);
  return matchFilterConfig({ operation: { payload: p } }, { operation: "updateEntity", entity }).passed;
};

// Events and patterns from AWS's EventBridge documentation (event patterns, content filtering, arrays, null values).
const ec2 = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated" },
};

describe("EventBridge patterns (AWS documentation cases)", () => {
  it("matches the EC2 termination example and AND-s fields", () => {
    const p = {
      source: ["aws.ec2"],
      "detail-type": ["EC2 Instance State-change Notification"],
      detail: { state: ["terminated"] },
    };
    expect(pattern(p, ec2)).toBe(true);
    expect(pattern({ ...p, detail: { state: ["running"] } }, ec2)).toBe(false);
    expect(pattern({ ...p, source: ["aws.s3"] }, ec2)).toBe(false);
  });

  it("a list of values is OR; an event array matches when the intersection is non-empty", () => {
    const p = {
      resources: [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
      ],
    };
    const event = {
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    };
    expect(pattern(p, event)).toBe(true);
    expect(pattern(p, { resources: ["arn:other"] })).toBe(false);
  });

  it("null and empty string are different values", () => {
    const event = { detail: { eventVersion: "", responseElements: null } };
    expect(pattern({ detail: { eventVersion: [""] } }, event)).toBe(true);
    expect(pattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(pattern({ detail: { responseElements: [""] } }, event)).toBe(false);
    expect(pattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, boolean]>([
    ["prefix", { time: [{ prefix: "2017-10-02" }] }, { time: "2017-10-02T18:43:48Z" }, true],
    ["prefix miss", { time: [{ prefix: "2017-10-02" }] }, { time: "2017-10-03T18:43:48Z" }, false],
    ["prefix only on strings", { n: [{ prefix: "1" }] }, { n: 123 }, false],
    ["prefix ignoring case", { service: [{ prefix: { "equals-ignore-case": "EventB" } }] }, { service: "eventbridge" }, true],
    ["suffix", { FileName: [{ suffix: ".png" }] }, { FileName: "image.png" }, true],
    ["suffix miss", { FileName: [{ suffix: ".png" }] }, { FileName: "image.jpg" }, false],
    ["suffix ignoring case", { service: [{ suffix: { "equals-ignore-case": "tBridge" } }] }, { service: "EventBridge" }, true],
    ["equals-ignore-case", { name: [{ "equals-ignore-case": "alice" }] }, { name: "ALICE" }, true],
    ["anything-but string", { detail: { state: [{ "anything-but": "initializing" }] } }, { detail: { state: "running" } }, true],
    [
      "anything-but string excluded",
      { detail: { state: [{ "anything-but": "initializing" }] } },
      { detail: { state: "initializing" } },
      false,
    ],
    ["anything-but number", { detail: { "x-limit": [{ "anything-but": 123 }] } }, { detail: { "x-limit": 456 } }, true],
    ["anything-but number excluded", { detail: { "x-limit": [{ "anything-but": 123 }] } }, { detail: { "x-limit": 123 } }, false],
    [
      "anything-but list of strings",
      { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
      { detail: { state: "overloaded" } },
      false,
    ],
    [
      "anything-but list of strings passes",
      { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
      { detail: { state: "running" } },
      true,
    ],
    [
      "anything-but list of numbers",
      { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
      { detail: { "x-limit": 200 } },
      false,
    ],
    [
      "anything-but prefix",
      { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
      { detail: { state: "initializing" } },
      false,
    ],
    [
      "anything-but prefix passes",
      { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
      { detail: { state: "running" } },
      true,
    ],
    ["anything-but suffix", { FileName: [{ "anything-but": { suffix: ".png" } }] }, { FileName: "a.txt" }, true],
    [
      "anything-but ignore case",
      { state: [{ "anything-but": { "equals-ignore-case": ["initializing"] } }] },
      { state: "INITIALIZING" },
      false,
    ],
    ["anything-but wildcard", { FilePath: [{ "anything-but": { wildcard: "*/dir/*" } }] }, { FilePath: "a/dir/b.png" }, false],
    ["anything-but needs the field", { state: [{ "anything-but": "x" }] }, {}, false],
    ["numeric range", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, { detail: { "c-count": 5 } }, true],
    ["numeric range low edge", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, { detail: { "c-count": 0 } }, false],
    ["numeric range high edge", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, { detail: { "c-count": 6 } }, false],
    ["numeric less than", { detail: { "d-count": [{ numeric: ["<", 10] }] } }, { detail: { "d-count": 9.99 } }, true],
    ["numeric equals 3.018e2", { detail: { "x-limit": [{ numeric: ["=", 3.018e2] }] } }, { detail: { "x-limit": 301.8 } }, true],
    [
      "numeric only matches JSON numbers",
      { detail: { "c-count": [{ numeric: [">", 0] }] } },
      { detail: { "c-count": "5" } },
      false,
    ],
    ["numeric with >=", { price: [{ numeric: [">=", "10"] }] }, { price: 10 }, true],
    ["cidr", { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } }, { detail: { sourceIPAddress: "10.0.0.255" } }, true],
    ["cidr miss", { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } }, { detail: { sourceIPAddress: "10.0.1.1" } }, false],
    [
      "exists true",
      { detail: { state: [{ exists: true }] } },
      { detail: { "instance-id": "i-abcd1111", state: "pending" } },
      true,
    ],
    ["exists true misses", { detail: { state: [{ exists: true }] } }, { detail: { "c-count": { c1: 100 } } }, false],
    [
      "exists false on absent field",
      { detail: { "c-count": [{ exists: false }] } },
      { detail: { state: ["initializing", "running"] } },
      true,
    ],
    [
      "exists false: an object is not a leaf",
      { detail: { "c-count": [{ exists: false }] } },
      { detail: { "c-count": { c1: 100 } } },
      true,
    ],
    ["exists false on present field", { detail: { "c-count": [{ exists: false }] } }, { detail: { "c-count": 1 } }, false],
    ["exists true on null", { x: [{ exists: true }] }, { x: null }, true],
    ["exists true on an empty list", { x: [{ exists: true }] }, { x: [] }, false],
    ["wildcard", { email: [{ wildcard: "*@doe.com" }] }, { email: "j@doe.com" }, true],
    ["wildcard miss", { email: [{ wildcard: "*@doe.com" }] }, { email: "j@doe.org" }, false],
    [
      "wildcard in the middle",
      { EventBusArn: [{ wildcard: "arn:aws:events:us-east-1:*:event-bus/*" }] },
      { EventBusArn: "arn:aws:events:us-east-1:123:event-bus/default" },
      true,
    ],
    ["wildcard path with extension", { FilePath: [{ wildcard: "dir/*.png" }] }, { FilePath: "dir/a/b.png" }, true],
    ["wildcard escaped star", { v: [{ wildcard: "a\\*b" }] }, { v: "a*b" }, true],
    ["wildcard escaped star is literal", { v: [{ wildcard: "a\\*b" }] }, { v: "axxb" }, false],
    ["wildcard is case-sensitive", { v: [{ wildcard: "A*" }] }, { v: "abc" }, false],
    ["$or across fields", { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] }, { Location: "Paris", Day: "Monday" }, true],
    ["$or none", { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] }, { Location: "Paris", Day: "Friday" }, false],
    ["AND of fields", { Location: ["New York"], Day: ["Monday"] }, { Location: "New York", Day: "Friday" }, false],
    ["string does not match a number", { v: ["300"] }, { v: 300 }, false],
    ["number matches an equal number", { v: [300] }, { v: 300.0 }, true],
    ["boolean literal", { v: [true] }, { v: true }, true],
    ["missing field fails a literal", { v: ["x"] }, {}, false],
  ])("%s", (_l, p, event, passed) => {
    expect(pattern(p, event)).toBe(passed);
  });

  it("the complex example combining several filters", () => {
    const p = {
      time: [{ prefix: "2017-10-02" }],
      detail: {
        state: [{ "anything-but": "initializing" }],
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ "anything-but": [100, 200, 300] }],
      },
    };
    const event = { time: "2017-10-02T18:43:48Z", detail: { state: "running", "c-count": 3, "d-count": 1, "x-limit": 150 } };
    expect(pattern(p, event)).toBe(true);
    expect(pattern(p, { ...event, detail: { ...event.detail, "x-limit": 200 } })).toBe(false);
  });

  it("a nested pattern over a list of objects needs one element matching all of it", () => {
    const event = {
      items: [
        { sku: "A", qty: 1 },
        { sku: "B", qty: 5 },
      ],
    };
    expect(pattern({ items: { sku: ["B"], qty: [{ numeric: [">", 2] }] } }, event)).toBe(true);
    expect(pattern({ items: { sku: ["A"], qty: [{ numeric: [">", 2] }] } }, event)).toBe(false);
  });
});

describe("filter_config (epilot document examples)", () => {
  const update: EntityOperationEvent = {
    operation: "updateEntity",
    entity: {
      _schema: "contact",
      email: [{ email: "new@x.com" }],
      first_name: "Jo",
      status: "placed",
      address: { country: "Germany" },
      age: 30,
    },
    diff: { updated: { email: [{ email: "new@x.com" }], status: "placed" } },
    previous: { email: [{ email: "old@x.com" }], status: "open_for_acceptance" },
    activity: { type: "EntityUpdatedFromPortal" },
  };

  it.each<[string, Record<string, unknown>, boolean]>([
    ["all update events", { operation: { operation: ["updateEntity"] } }, true],
    ["only creates", { operation: { operation: ["createEntity"] } }, false],
    [
      "updates from a portal user",
      { operation: { operation: ["updateEntity"] }, activity: { type: ["EntityUpdatedFromPortal"] } },
      true,
    ],
    ["other activity", { activity: { type: ["DocUploadedFromPortal", "DocRemovedFromPortal"] } }, false],
    ["activity with anything-but", { activity: { type: [{ "anything-but": ["SyncEntity"] }] } }, true],
    [
      "email of a contact changed",
      {
        operation: {
          operation: ["updateEntity"],
          payload: { _schema: ["contact"] },
          diff: { updated: { email: [{ exists: true }] } },
        },
      },
      true,
    ],
    [
      "first_name altered (not this time)",
      {
        operation: {
          diff: {
            $or: [
              { "added.first_name": [{ exists: true }] },
              { "updated.first_name": [{ exists: true }] },
              { "deleted.first_name": [{ exists: true }] },
            ],
          },
        },
      },
      false,
    ],
    [
      "status from open_for_acceptance to placed",
      {
        operation: {
          operation: ["updateEntity"],
          payload: { _schema: ["contact"], status: ["placed"] },
          diff: { updated: { status: ["open_for_acceptance"] } },
        },
      },
      true,
    ],
    [
      "status from another state",
      { operation: { payload: { status: ["placed"] }, diff: { updated: { status: ["draft"] } } } },
      false,
    ],
    [
      "nested payload and numeric",
      { operation: { payload: { address: { country: ["Germany"] }, age: [{ numeric: [">", 25, "<=", 35] }] } } },
      true,
    ],
    ["wrong schema", { operation: { payload: { _schema: ["contract"] } } }, false],
    ["empty filter matches everything", {}, true],
    ["top-level entity shorthand", { entity: { first_name: [{ prefix: "J" }] } }, true],
    ["top-level diff shorthand", { diff: { "updated.status": [{ exists: true }] } }, true],
    [
      "top-level $or of filters",
      { $or: [{ operation: { operation: ["createEntity"] } }, { activity: { type: ["EntityUpdatedFromPortal"] } }] },
      true,
    ],
    ["top-level $or none", { $or: [{ operation: { operation: ["createEntity"] } }, { activity: { type: ["X"] } }] }, false],
  ])("%s", (_l, filter, passed) => {
    expect(validateFilterConfig(filter)).toEqual([]);
    expect(matchFilterConfig(filter, update).passed).toBe(passed);
  });

  it("first_name altered: added, updated or deleted", () => {
    const filter = {
      operation: {
        diff: {
          $or: [
            { "added.first_name": [{ exists: true }] },
            { "updated.first_name": [{ exists: true }] },
            { "deleted.first_name": [{ exists: true }] },
          ],
        },
      },
    };
    const base = { operation: "updateEntity", entity: {} };
    expect(matchFilterConfig(filter, { ...base, diff: { added: { first_name: "A" } } }).passed).toBe(true);
    expect(
      matchFilterConfig(filter, { ...base, diff: { deleted: { first_name: null } }, previous: { first_name: "A" } }).passed,
    ).toBe(true);
    expect(matchFilterConfig(filter, { ...base, diff: { updated: { last_name: "B" } } }).passed).toBe(false);
  });

  it("explains every leaf with its path and the value seen", () => {
    const r = matchFilterConfig(
      { operation: { operation: ["updateEntity"], payload: { status: ["placed"] }, diff: { updated: { status: ["draft"] } } } },
      update,
    );
    expect(r.passed).toBe(false);
    expect(r.statements).toEqual([
      { field: "operation.operation", operator: "equals", value: ["updateEntity"], actual_value: "updateEntity", passed: true },
      { field: "operation.payload.status", operator: "equals", value: ["placed"], actual_value: "placed", passed: true },
      {
        field: "operation.diff.updated.status",
        operator: "equals",
        value: ["draft"],
        actual_value: "open_for_acceptance",
        passed: false,
      },
    ]);
  });

  it("a filter that is not an object matches nothing", () => {
    const r = matchFilterConfig("updateEntity" as unknown as Record<string, unknown>, update);
    expect(r).toMatchObject({ passed: false, statements: [{ error: "filter_config must be an object" }] });
  });

  it("an invalid filter matches nothing and says why", () => {
    const r = matchFilterConfig({ operation: { payload: { status: [{ numeric: [">>", 1] }] } } }, update);
    expect(r.passed).toBe(false);
    expect(r.statements[0]).toMatchObject({
      field: "operation.payload.status.0.numeric.0",
      passed: false,
      error: expect.stringMatching(/operator/),
    });
  });
});

describe("validateFilterConfig", () => {
  it.each<[string, unknown, string, RegExp]>([
    ["not an object", [], "", /must be an object/],
    ["unknown top-level key", { payload: {} }, "payload", /unknown key/],
    ["operation not an object", { operation: ["updateEntity"] }, "operation", /must be an object/],
    ["operation.operation not a list", { operation: { operation: "updateEntity" } }, "operation.operation", /must be a list/],
    ["unknown operation key", { operation: { filter: {} } }, "operation.filter", /unknown key/],
    ["payload not an object", { operation: { payload: ["x"] } }, "operation.payload", /object of field patterns/],
    ["empty pattern list", { entity: { a: [] } }, "entity.a", /must not be empty/],
    ["scalar instead of a list", { entity: { a: "x" } }, "entity.a", /list of patterns/],
    ["two operators in one object", { entity: { a: [{ prefix: "a", suffix: "b" }] } }, "entity.a.0", /exactly one key/],
    ["unknown operator", { entity: { a: [{ regex: ".*" }] } }, "entity.a.0", /unknown operator "regex"/],
    ["nested list", { entity: { a: [["x"]] } }, "entity.a.0", /a pattern is/],
    ["exists not boolean", { entity: { a: [{ exists: "yes" }] } }, "entity.a.0.exists", /true or false/],
    ["prefix not a string", { entity: { a: [{ prefix: 1 }] } }, "entity.a.0.prefix", /must be a string/],
    ["numeric bad operator", { entity: { a: [{ numeric: ["~", 1] }] } }, "entity.a.0.numeric.0", /operator must be one of/],
    ["numeric odd length", { entity: { a: [{ numeric: [">", 1, "<"] }] } }, "entity.a.0.numeric", /\[op, number\]/],
    ["numeric not a number", { entity: { a: [{ numeric: [">", "ten"] }] } }, "entity.a.0.numeric.1", /finite number/],
    ["numeric two lower bounds", { entity: { a: [{ numeric: [">", 1, ">=", 2] }] } }, "entity.a.0.numeric", /one lower bound/],
    ["numeric empty range", { entity: { a: [{ numeric: [">", 5, "<", 1] }] } }, "entity.a.0.numeric", /below the upper/],
    [
      "numeric = with another bound",
      { entity: { a: [{ numeric: ["=", 5, "<", 10] }] } },
      "entity.a.0.numeric",
      /cannot be combined/,
    ],
    ["wildcard with **", { entity: { a: [{ wildcard: "a**b" }] } }, "entity.a.0.wildcard", /consecutive wildcard/],
    ["wildcard dangling escape", { entity: { a: [{ wildcard: "a\\" }] } }, "entity.a.0.wildcard", /unfinished escape/],
    [
      "anything-but mixed list",
      { entity: { a: [{ "anything-but": ["a", 1] }] } },
      "entity.a.0.anything-but",
      /only strings or only numbers/,
    ],
    ["anything-but empty list", { entity: { a: [{ "anything-but": [] }] } }, "entity.a.0.anything-but", /must not be empty/],
    [
      "anything-but prefix list",
      { entity: { a: [{ "anything-but": { prefix: ["a", "b"] } }] } },
      "entity.a.0.anything-but.prefix",
      /single string/,
    ],
    [
      "anything-but unknown",
      { entity: { a: [{ "anything-but": { numeric: [">", 1] } }] } },
      "entity.a.0.anything-but",
      /unknown anything-but/,
    ],
    ["cidr invalid", { entity: { a: [{ cidr: "10.0.0.300/8" }] } }, "entity.a.0.cidr", /CIDR/],
    ["$or empty", { entity: { $or: [] } }, "entity.$or", /non-empty array/],
    [
      "diff key outside added/updated/deleted",
      { diff: { changed: { a: [{ exists: true }] } } },
      "diff.changed",
      /added, updated or deleted/,
    ],
    ["activity without type", { activity: { kind: ["x"] } }, "activity.kind", /expected type/],
    ["top-level $or not a list", { $or: {} }, "$or", /non-empty list/],
    ["infinite number", { entity: { a: [Number.POSITIVE_INFINITY] } }, "entity.a.0", /finite/],
  ])("%s", (_l, filter, path, message) => {
    const issues = validateFilterConfig(filter);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0].path).toBe(path);
    expect(issues[0].message).toMatch(message);
  });

  it("bounds the size and depth of a filter", () => {
    const wide: Record<string, unknown> = {};
    for (let i = 0; i <= LIMITS.MAX_FILTER_CONFIG_NODES; i++) wide[`f${i}`] = ["x"];
    expect(validateFilterConfig({ entity: wide }).some((i) => /at most \d+ pattern nodes/.test(i.message))).toBe(true);
    let deep: Record<string, unknown> = { leaf: ["x"] };
    for (let i = 0; i < LIMITS.MAX_EXPRESSION_DEPTH + 2; i++) deep = { n: deep };
    expect(validateFilterConfig({ entity: deep }).some((i) => /nested deeper/.test(i.message))).toBe(true);
  });
});
