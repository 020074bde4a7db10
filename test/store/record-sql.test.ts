import { env } from "cloudflare:test";
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseQuery } from "../../src/engine/record-query";
import { AppError } from "../../src/lib/errors";
import { EntitySearchFilterSchema, type EntitySearchFilter } from "../../src/schemas/entity-search";
import type { Attributes } from "../../src/schemas/records";
import { filterToSql, queryToSql, type SqlFragment } from "../../src/store/record-sql";
import { getRecordsByIds, insertRecord, queryRecordIds, searchRecords } from "../../src/store/records";

const ORG = `sql-${crypto.randomUUID()}`;
const OTHER = `sql-other-${crypto.randomUUID()}`;
const db = () => env.DB;

interface Seed {
  key: string;
  schema?: string;
  title?: string;
  tags?: string[];
  data: Attributes;
  created_at: string;
  org?: string;
}

// Each record has a short key (stored as `key`) so assertions read as lists of names.
const SEEDS: Seed[] = [
  {
    key: "john",
    title: "John Smith",
    tags: ["vip", "lead"],
    created_at: "2024-01-10T10:00:00.000Z",
    data: {
      name: "John Smith",
      status: "active",
      age: 30,
      zip: "10115",
      score: 10.5,
      vip: true,
      labels: ["a", "b"],
      nums: [1, 10],
      address: { city: "Berlin", geo: { lat: 52.5 } },
      email: "john@example.com",
    },
  },
  {
    key: "jane",
    title: "Jane Doe",
    tags: ["lead"],
    created_at: "2024-02-10T10:00:00.000Z",
    data: { name: "Jane Doe", status: "inactive", age: 45, zip: 10115, vip: false, labels: [], address: { city: "Hamburg" } },
  },
  {
    key: "jorg",
    title: "Jörg O'Brien",
    created_at: "2024-03-10T10:00:00.000Z",
    data: { name: "Jörg O'Brien", status: "active", age: "30", notes: "100% sure_thing", nickname: null, nulls: [null] },
  },
  {
    key: "deal",
    schema: "deal",
    title: "Big deal",
    created_at: "2024-04-10T10:00:00.000Z",
    data: { title: "Big deal", amount: 1000, status: "active", address: {} },
  },
  {
    key: "other",
    org: OTHER,
    title: "John Other",
    created_at: "2024-01-01T00:00:00.000Z",
    data: { name: "John Other", status: "active" },
  },
];
const IDS: Record<string, string> = {};

beforeAll(async () => {
  for (const s of SEEDS) {
    const id = crypto.randomUUID();
    IDS[s.key] = id;
    await insertRecord(db(), {
      id,
      org_id: s.org ?? ORG,
      schema: s.schema ?? "contact",
      title: s.title ?? "",
      tags: s.tags ?? [],
      data: { key: s.key, ...s.data },
      created_at: s.created_at,
      updated_at: s.created_at,
      created_by: "test",
      version: 1,
    });
  }
});

async function keys(where: SqlFragment, schema: string | null = null): Promise<string[]> {
  const page = await searchRecords(db(), ORG, schema, where, 100, 0);
  return page.results.map((r) => r.data.key as string).sort();
}
const q = (query: string, schema: string | null = null) => keys(queryToSql(parseQuery(query)), schema);
const f = (filter: EntitySearchFilter) => keys(filterToSql(EntitySearchFilterSchema.parse(filter) as EntitySearchFilter));

describe("query string → SQL", () => {
  it("matches everything for an empty query or *, within the org only", async () => {
    expect(await q("")).toEqual(["deal", "jane", "john", "jorg"]);
    expect(await q("*")).toEqual(["deal", "jane", "john", "jorg"]);
    expect(await q("", "contact")).toEqual(["jane", "john", "jorg"]);
  });

  it("field:value matches text exactly (case-sensitive) and unquoted numbers as numbers or text", async () => {
    expect(await q("status:active")).toEqual(["deal", "john", "jorg"]);
    expect(await q("status:Active")).toEqual([]);
    expect(await q("zip:10115")).toEqual(["jane", "john"]);
    expect(await q('zip:"10115"')).toEqual(["john"]);
    expect(await q("age:30")).toEqual(["john", "jorg"]);
    expect(await q('age:"30"')).toEqual(["jorg"]);
    expect(await q("score:10.5")).toEqual(["john"]);
    expect(await q('name:"Jane Doe"')).toEqual(["jane"]);
  });

  it("booleans, array elements, dotted paths and system fields", async () => {
    expect(await q("vip:true")).toEqual(["john"]);
    expect(await q("vip:false")).toEqual(["jane"]);
    expect(await q("labels:b")).toEqual(["john"]);
    expect(await q("nums:10")).toEqual(["john"]);
    expect(await q("address.city:Berlin")).toEqual(["john"]);
    expect(await q("address.geo.lat:52.5")).toEqual(["john"]);
    expect(await q("_schema:deal")).toEqual(["deal"]);
    expect(await q(`_id:${IDS.jane}`)).toEqual(["jane"]);
    expect(await q("_tags:vip")).toEqual(["john"]);
    expect(await q("_tags:lead")).toEqual(["jane", "john"]);
    expect(await q('_title:"Big deal"')).toEqual(["deal"]);
    expect(await q(`_org:${ORG}`)).toEqual(["deal", "jane", "john", "jorg"]);
    // An object is not a value: its members are not matched as if it were an array.
    expect(await q("address:Berlin")).toEqual([]);
  });

  it("comparisons: numbers numerically, quoted or non-numeric values as text, dates as ISO text", async () => {
    expect(await q("age:>30")).toEqual(["jane"]);
    expect(await q("age:>=30")).toEqual(["jane", "john"]);
    expect(await q("age:<45")).toEqual(["john"]);
    expect(await q("age:<=45")).toEqual(["jane", "john"]);
    expect(await q("amount:>999.5")).toEqual(["deal"]);
    // "100" < "9" as text, but 1000 > 9 as numbers: no type mixing.
    expect(await q("amount:>9")).toEqual(["deal"]);
    expect(await q('age:>="3"')).toEqual(["jorg"]);
    expect(await q("name:>Jo")).toEqual(["john", "jorg"]);
    expect(await q("_created_at:>=2024-02-10T10:00:00.000Z")).toEqual(["deal", "jane", "jorg"]);
    expect(await q("_created_at:<2024-02")).toEqual(["john"]);
    expect(await q("_updated_at:>2024-03-31")).toEqual(["deal"]);
  });

  it("prefix (case-insensitive, wildcards in the value are literal) and existence", async () => {
    expect(await q("name:J*")).toEqual(["jane", "john", "jorg"]);
    expect(await q("name:Jo*")).toEqual(["john"]);
    expect(await q("name:jo*")).toEqual(["john"]);
    expect(await q("name:Jö*")).toEqual(["jorg"]);
    expect(await q('name:"Jane D"*')).toEqual(["jane"]);
    expect(await q("notes:100%*")).toEqual(["jorg"]);
    expect(await q("notes:1_0*")).toEqual([]);
    expect(await q("_title:Big*")).toEqual(["deal"]);
    expect(await q("_tags:vi*")).toEqual(["john"]);
    expect(await q("email:*")).toEqual(["john"]);
    expect(await q("nickname:*")).toEqual([]);
    expect(await q("nulls:*")).toEqual([]);
    expect(await q("labels:*")).toEqual(["john"]);
    expect(await q("address:*")).toEqual(["jane", "john"]);
    expect(await q("_tags:*")).toEqual(["jane", "john"]);
    expect(await q("-_tags:*")).toEqual(["deal", "jorg"]);
  });

  it("full text over title, tags and attribute values (not keys), case-insensitively", async () => {
    expect(await q("smith")).toEqual(["john"]);
    expect(await q('"jane doe"')).toEqual(["jane"]);
    expect(await q("hamburg")).toEqual(["jane"]);
    expect(await q("o'brien")).toEqual(["jorg"]);
    expect(await q("Jörg")).toEqual(["jorg"]);
    expect(await q("1000")).toEqual(["deal"]);
    expect(await q("lead")).toEqual(["jane", "john"]);
    expect(await q("status")).toEqual([]);
    expect(await q("Jan*")).toEqual(["jane"]);
  });

  it("AND, implicit AND, OR, NOT, - and parentheses", async () => {
    expect(await q("status:active AND age:30")).toEqual(["john", "jorg"]);
    expect(await q("status:active age:>=30")).toEqual(["john"]);
    expect(await q("_schema:contact AND status:active")).toEqual(["john", "jorg"]);
    expect(await q("vip:true OR _schema:deal")).toEqual(["deal", "john"]);
    expect(await q("status:active AND NOT _schema:deal")).toEqual(["john", "jorg"]);
    expect(await q("-status:active")).toEqual(["jane"]);
    expect(await q("NOT smith")).toEqual(["deal", "jane", "jorg"]);
    expect(await q("(age:45 OR amount:1000) AND status:*")).toEqual(["deal", "jane"]);
    expect(await q("age:45 OR amount:1000 AND status:inactive")).toEqual(["jane"]);
    expect(await q("-(status:active OR vip:false)")).toEqual([]);
  });

  it("treats injection attempts as plain values", async () => {
    const before = await q("");
    expect(await q(`name:"a'); DROP TABLE records;--"`)).toEqual([]);
    expect(await q(`"x' OR 1=1 --"`)).toEqual([]);
    expect(await q(`status:active\\'\\)\\;`)).toEqual([]);
    expect(await q(`name:"' OR '1'='1"*`)).toEqual([]);
    expect(await q("")).toEqual(before);
  });
});

describe("EntitySearchFilter → SQL", () => {
  it("term: typed equality, arrays, system fields and .keyword", async () => {
    expect(await f([{ term: { status: "active" } }])).toEqual(["deal", "john", "jorg"]);
    expect(await f([{ term: { "status.keyword": "inactive" } }])).toEqual(["jane"]);
    expect(await f([{ term: { zip: 10115 } }])).toEqual(["jane"]);
    expect(await f([{ term: { zip: "10115" } }])).toEqual(["john"]);
    expect(await f([{ term: { vip: true } }])).toEqual(["john"]);
    expect(await f([{ term: { labels: "a" } }])).toEqual(["john"]);
    expect(await f([{ term: { _schema: "contact" } }])).toEqual(["jane", "john", "jorg"]);
    expect(await f([{ term: { _tags: "vip" } }])).toEqual(["john"]);
    expect(await f([{ term: { "address.city": "Hamburg" } }])).toEqual(["jane"]);
  });

  it("term null matches null or missing values", async () => {
    expect(await f([{ term: { nickname: null } }, { term: { _schema: "contact" } }])).toEqual(["jane", "john", "jorg"]);
    expect(await f([{ term: { email: null } }])).toEqual(["deal", "jane", "jorg"]);
  });

  it("terms: any of the values, typed, with mixed types", async () => {
    expect(await f([{ terms: { status: ["inactive", "pending"] } }])).toEqual(["jane"]);
    expect(await f([{ terms: { age: [30, 45] } }])).toEqual(["jane", "john"]);
    expect(await f([{ terms: { age: ["30", 45] } }])).toEqual(["jane", "jorg"]);
    expect(await f([{ terms: { vip: [false, "x"] } }])).toEqual(["jane"]);
    expect(await f([{ terms: { score: [10.5, 1] } }])).toEqual(["john"]);
    expect(await f([{ terms: { _tags: ["vip", "none"] } }])).toEqual(["john"]);
    expect(await f([{ terms: { status: [] } }])).toEqual([]);
    expect(await f([{ terms: { email: ["john@example.com", null] } }])).toEqual(["deal", "jane", "john", "jorg"]);
  });

  it("ids, within the org only", async () => {
    expect(await f([{ ids: { values: [IDS.john, IDS.deal, IDS.other, "nope"] } }])).toEqual(["deal", "john"]);
    expect(await f([{ ids: { values: [] } }])).toEqual([]);
    expect(await f([{ ids: {} }])).toEqual([]);
  });

  it("range: numbers numerically, strings as text, dates (ISO or epoch ms), bounds on the same element", async () => {
    expect(await f([{ range: { age: { gte: 30, lt: 45 } } }])).toEqual(["john"]);
    expect(await f([{ range: { age: { gt: 30 } } }])).toEqual(["jane"]);
    expect(await f([{ range: { age: { lte: 30 } } }])).toEqual(["john"]);
    // Text compares by bytes: "Jö…" sorts after "Jp".
    expect(await f([{ range: { name: { gte: "Jo", lt: "Jp" } } }])).toEqual(["john"]);
    expect(await f([{ range: { _created_at: { gte: "2024-01-01T00:00:00.000Z", lte: "2024-01-31T23:59:59.999Z" } } }])).toEqual([
      "john",
    ]);
    expect(await f([{ range: { _created_at: { gte: Date.parse("2024-03-01T00:00:00.000Z") } } }])).toEqual(["deal", "jorg"]);
    expect(await f([{ range: { nums: { gt: 1, lt: 10 } } }])).toEqual([]);
    expect(await f([{ range: { nums: { gte: 10 } } }])).toEqual(["john"]);
  });

  it("exists", async () => {
    expect(await f([{ exists: { field: "email" } }])).toEqual(["john"]);
    expect(await f([{ exists: { field: "nickname" } }])).toEqual([]);
    expect(await f([{ exists: { field: "address" } }])).toEqual(["jane", "john"]);
    expect(await f([{ exists: { field: "_tags" } }])).toEqual(["jane", "john"]);
    expect(await f([{ exists: { field: "_title" } }])).toEqual(["deal", "jane", "john", "jorg"]);
  });

  it("default AND, $and, $or, $not and nesting", async () => {
    expect(await f([{ term: { status: "active" } }, { term: { _schema: "contact" } }])).toEqual(["john", "jorg"]);
    expect(await f([{ $and: [{ term: { status: "active" } }, { range: { age: { gte: 30 } } }] }])).toEqual(["john"]);
    expect(await f([{ $or: [{ term: { vip: true } }, { term: { _schema: "deal" } }] }])).toEqual(["deal", "john"]);
    expect(await f([{ $not: [{ term: { status: "active" } }] }])).toEqual(["jane"]);
    expect(await f([{ $not: [{ term: { status: "active" } }, { term: { _schema: "deal" } }] }])).toEqual([
      "jane",
      "john",
      "jorg",
    ]);
    expect(
      await f([
        { term: { _schema: "contact" } },
        { $or: [{ $not: [{ exists: { field: "email" } }] }, { $and: [{ term: { vip: true } }, { terms: { labels: ["b"] } }] }] },
      ]),
    ).toEqual(["jane", "john", "jorg"]);
  });

  it("treats injection attempts as plain values and refuses them as field names", async () => {
    const evil = "a'); DROP TABLE records;--";
    expect(await f([{ term: { status: evil } }])).toEqual([]);
    expect(await f([{ terms: { status: [evil, `"]'`] } }])).toEqual([]);
    expect(await f([{ ids: { values: [evil] } }])).toEqual([]);
    expect(await f([{ range: { name: { lt: evil } } }])).toEqual(["jane", "john", "jorg"]);
    expect(EntitySearchFilterSchema.safeParse([{ term: { [evil]: "x" } }]).success).toBe(false);
    expect(EntitySearchFilterSchema.safeParse([{ exists: { field: `x") OR 1=1 --` } }]).success).toBe(false);
    // The translator refuses bad names itself too, for callers that skip the schema.
    expect(() => filterToSql([{ term: { [evil]: "x" } }])).toThrow(AppError);
    expect(() => filterToSql([{ exists: { field: '$."a"' } }])).toThrow(/Invalid field name/);
    expect(await q("")).toEqual(["deal", "jane", "john", "jorg"]);
  });

  it("refuses a filter that needs more bound parameters than D1 allows", () => {
    const many = Array.from({ length: 46 }, (_, i) => ({ term: { [`f${i}`]: "x" } }));
    expect(() => filterToSql(many)).toThrow(/too complex/);
  });
});

describe("paging helpers", () => {
  it("searchRecords pages newest first with a total", async () => {
    const page1 = await searchRecords(db(), ORG, null, queryToSql(null), 2, 0);
    const page2 = await searchRecords(db(), ORG, null, queryToSql(null), 2, 2);
    expect(page1.total).toBe(4);
    expect(page1.results.map((r) => r.data.key)).toEqual(["deal", "jorg"]);
    expect(page2.results.map((r) => r.data.key)).toEqual(["jane", "john"]);
  });

  it("queryRecordIds pages by id after a cursor, with the schema of each record", async () => {
    const where = queryToSql(parseQuery("status:*"));
    const all = await queryRecordIds(db(), ORG, where, null, 100);
    expect(all.map((r) => r.id)).toEqual([IDS.john, IDS.jane, IDS.jorg, IDS.deal].sort());
    expect(all.find((r) => r.id === IDS.deal)?.schema).toBe("deal");
    const first = await queryRecordIds(db(), ORG, where, null, 2);
    const rest = await queryRecordIds(db(), ORG, where, first[1].id, 100);
    expect([...first, ...rest].map((r) => r.id)).toEqual(all.map((r) => r.id));
    const filtered = await queryRecordIds(db(), ORG, filterToSql([{ term: { _schema: "deal" } }]), null, 10);
    expect(filtered).toEqual([{ id: IDS.deal, schema: "deal" }]);
  });

  it("getRecordsByIds returns the org's records in the order asked, skipping unknown and foreign ids", async () => {
    const rows = await getRecordsByIds(db(), ORG, [IDS.jane, "missing", IDS.other, IDS.john, IDS.jane]);
    expect(rows.map((r) => r.data.key)).toEqual(["jane", "john"]);
    expect(await getRecordsByIds(db(), ORG, [])).toEqual([]);
  });
});

describe("EntitySearchFilterSchema", () => {
  const parse = (v: unknown) => EntitySearchFilterSchema.safeParse(v);

  it("accepts the document's example and nested clauses", () => {
    expect(parse([{ term: { _schema: "contact" } }, { terms: { status: ["active"] } }]).success).toBe(true);
    expect(
      parse([{ $or: [{ range: { _created_at: { gte: "2021-01-01" } } }, { $not: [{ exists: { field: "x" } }] }] }]).success,
    ).toBe(true);
  });

  it("refuses clauses with zero or several operators, several fields, empty ranges and unknown keys", () => {
    for (const bad of [
      [],
      [{}],
      [{ term: { a: 1 }, exists: { field: "a" } }],
      [{ term: { a: 1, b: 2 } }],
      [{ term: {} }],
      [{ range: { a: {} } }],
      [{ range: { a: { gte: 1, format: "yyyy" } } }],
      [{ range: { a: { gt: true } } }],
      [{ match: { a: 1 } }],
      [{ terms: { a: "not-a-list" } }],
      [{ term: { a: { nested: 1 } } }],
      [{ $and: [] }],
      [{ exists: { field: "_secret" } }],
      { term: { a: 1 } },
    ]) {
      expect({ bad, ok: parse(bad).success }).toEqual({ bad, ok: false });
    }
  });

  it("bounds nesting and clause count, and survives a hostile deeply nested body", () => {
    let nested: unknown = [{ term: { a: 1 } }];
    for (let i = 0; i < 8; i++) nested = [{ $and: nested }];
    expect(parse(nested).success).toBe(false);
    let ok: unknown = [{ term: { a: 1 } }];
    for (let i = 0; i < 7; i++) ok = [{ $and: ok }];
    expect(parse(ok).success).toBe(true);
    let hostile: unknown = [];
    for (let i = 0; i < 20_000; i++) hostile = [{ $or: hostile }];
    const res = parse(hostile);
    expect(res.success).toBe(false);
    expect(res.error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(/nest at most/)]);
    const wide = Array.from({ length: 51 }, () => ({ term: { a: 1 } }));
    expect(parse(wide).success).toBe(false);
    const spread = Array.from({ length: 10 }, () => ({ $or: Array.from({ length: 5 }, () => ({ term: { a: 1 } })) }));
    expect(parse(spread).success).toBe(false);
  });

  it("renders in an OpenAPI document", () => {
    const app = new OpenAPIHono();
    app.openapi(
      createRoute({
        method: "post",
        path: "/x",
        request: {
          body: { content: { "application/json": { schema: z.object({ entities_filter: EntitySearchFilterSchema }) } } },
        },
        responses: { 200: { description: "ok" } },
      }),
      (c) => c.body(null, 200),
    );
    const doc = app.getOpenAPIDocument({ openapi: "3.0.3", info: { title: "t", version: "1" } });
    const schemas = doc.components?.schemas ?? {};
    expect(schemas.EntitySearchFilter).toBeDefined();
    expect(schemas.EntitySearchFilter).toMatchObject({
      type: "array",
      items: { $ref: "#/components/schemas/EntitySearchClause" },
    });
    expect(JSON.stringify(schemas.EntitySearchClause)).toContain("#/components/schemas/EntitySearchClause");
  });
});
