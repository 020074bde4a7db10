import { describe, expect, it } from "vitest";
import { type TemplateContext, TemplateError, renderValue, validateTemplates } from "../../../src/engine/templates";
import { LIMITS } from "../../../src/lib/limits";

const NOW = Date.UTC(2024, 0, 15, 10, 0, 0); // 2024-01-15T10:00:00Z
const ctx: TemplateContext = {
  record: {
    id: "rec_1",
    name: "John Smith",
    email: "John@Example.com",
    value: 50000,
    ratio: 0.5,
    active: false,
    nothing: null,
    tags: ["vip", "b2b"],
    address: { city: "Berlin" },
    created_at: "2024-01-15T10:30:00Z",
    first_name: "John",
  },
  previous: { stage: "lead" },
  trigger: { type: "record.updated", body: { amount: 12 } },
  actions: { a1: { outputs: { x: 42, list: [1, 2] }, execution_status: "success" } },
  loop: { item: { sku: "A-1" }, index: 3 },
  variables: { greeting: "Hello" },
  user: { id: "u1", email: "owner@example.com" },
  execution: { id: "exec_1" },
  now: NOW,
};

const render = (value: unknown, opts?: { strict?: boolean }, c: TemplateContext = ctx) => renderValue(value, c, opts).value;

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error("expected a TemplateError");
}

describe("variables", () => {
  it.each<[string, unknown]>([
    ["{{ record.name }}", "John Smith"],
    ["{{ entity.name }}", "John Smith"],
    ["{{ record.address.city }}", "Berlin"],
    ["{{ record.tags[1] }}", "b2b"],
    ["{{ record.tags.first }}", "vip"],
    ["{{ record.tags.size }}", 2],
    ["{{ previous.stage }}", "lead"],
    ["{{ actions.a1.outputs.x }}", 42],
    ["{{ actions.a1.execution_status }}", "success"],
    ["{{ trigger.type }}", "record.updated"],
    ["{{ trigger.body.amount }}", 12],
    ["{{ now }}", "2024-01-15T10:00:00.000Z"],
    ["{{ user.id }}", "u1"],
    ["{{ user.email }}", "owner@example.com"],
    ["{{ loop.item.sku }}", "A-1"],
    ["{{ loop.index }}", 3],
    ["{{ variables.greeting }}", "Hello"],
    ["{{ execution.id }}", "exec_1"],
    ["{{ record.missing }}", ""],
    ["{{ nothing.at.all }}", ""],
  ])("%s", (template, expected) => {
    expect(render(template)).toEqual(expected);
  });

  it("renders `record` from `entity` when only the entity is given", () => {
    expect(render("{{ record.a }}-{{ entity.a }}", undefined, { entity: { a: 1 }, now: NOW })).toBe("1-1");
  });
});

describe("filters", () => {
  it.each<[string, unknown]>([
    ["{{ record.name | uppercase }}", "JOHN SMITH"],
    ["{{ record.email | lowercase }}", "john@example.com"],
    ["{{ record.missing | uppercase }}", ""],
    ["{{ record.value | lowercase }}", "50000"],
    ["{{ now | add_days: 7 }}", "2024-01-22T10:00:00.000Z"],
    ["{{ now | add_days: -15 }}", "2023-12-31T10:00:00.000Z"],
    ["{{ now | add_days: 0.5 }}", "2024-01-15T22:00:00.000Z"],
    ["{{ now | add_days: '2' }}", "2024-01-17T10:00:00.000Z"],
    ["{{ '2024-02-28' | add_days: 1 }}", "2024-02-29"],
    ["{{ '2023-02-28' | add_days: 1 }}", "2023-03-01"],
    ["{{ record.created_at | add_days: 1 }}", "2024-01-16T10:30:00.000Z"],
    ["{{ '2024-03-30T12:00:00+02:00' | add_days: 1 }}", "2024-03-31T10:00:00.000Z"],
    ["{{ 'now' | add_days: 1 }}", "2024-01-16T10:00:00.000Z"],
    ["{{ 'today' | add_days: 1 }}", "2024-01-16"],
    ["{{ 'not a date' | add_days: 1 }}", "not a date"],
    ["{{ record.missing | add_days: 1 }}", ""],
    ['{{ record.created_at | date_format: "MMM D, YYYY" }}', "Jan 15, 2024"],
    ["{{ now | date_format: 'YYYY-MM-DD HH:mm:ss' }}", "2024-01-15 10:00:00"],
    ["{{ now | date_format }}", "2024-01-15"],
    ["{{ now | add_days: 3 | date_format: 'dddd Do MMMM' }}", "Thursday 18th January"],
    ["{{ now | date_format: 'h:mm A', 'America/New_York' }}", "5:00 AM"],
    ["{{ now | date_format: 'HH:mm Z', 'Europe/Berlin' }}", "11:00 +01:00"],
    ["{{ 'junk' | date_format: 'YYYY' }}", "junk"],
    ["{{ record.name | upcase }}", "JOHN SMITH"],
    ["{{ record.tags | join: ', ' }}", "vip, b2b"],
    ["{{ record.missing | default: 'n/a' }}", "n/a"],
    ["{{ record.name | append: '!' | prepend: '> ' }}", "> John Smith!"],
    ["{{ record.value | plus: 1 }}", 50001],
    ["{{ record.value | divided_by: 1000 | append: 'k' }}", "50k"],
    ["{{ record.tags | size }}", 2],
    ["{{ record.name | split: ' ' | last }}", "Smith"],
    ["{{ record.name | truncate: 7 }}", "John..."],
    ["{{ record.address | json }}", '{"city":"Berlin"}'],
    ["{{ now | date: '%Y-%m-%d %H:%M' }}", "2024-01-15 10:00"],
    ["{{ 'now' | date: '%Y-%m-%d' }}", "2024-01-15"],
    ["{% if record.value > 1000 %}big{% else %}small{% endif %}", "big"],
    ["{% for t in record.tags %}[{{ t }}]{% endfor %}", "[vip][b2b]"],
    ["{% assign n = record.first_name | downcase %}{{ n }}", "john"],
    ["{% capture c %}{{ record.first_name }}!{% endcapture %}{{ c }}", "John!"],
  ])("%s", (template, expected) => {
    expect(render(template)).toEqual(expected);
  });

  it("add_days needs a number and date_format a known time zone", () => {
    expect(templateError(() => render("{{ now | add_days: 'x' }}")).message).toMatch(/add_days needs a number of days/);
    expect(templateError(() => render("{{ now | date_format: 'YYYY', 'Mars/Olympus' }}")).message).toMatch(
      /unknown time zone "Mars\/Olympus"/,
    );
  });
});

describe("type-preserving rendering", () => {
  it.each<[string, unknown]>([
    ["{{ record.value }}", 50000],
    ["{{ record.ratio }}", 0.5],
    ["{{ record.active }}", false],
    ["{{ record.nothing }}", null],
    ["{{ record.tags }}", ["vip", "b2b"]],
    ["{{ record.address }}", { city: "Berlin" }],
    ["  {{ record.value }}\n", 50000],
    ["{{record.value}}", 50000],
    ["{{ actions.a1.outputs.list }}", [1, 2]],
    ["{{ record.value | plus: 0.5 }}", 50000.5],
    ["{{ record.missing }}", ""],
    // anything around the expression makes it text; objects and lists in text are JSON
    ["${{ record.value }}", "$50000"],
    ["{{ record.value }}{{ record.value }}", "5000050000"],
    ["tags: {{ record.tags }}", 'tags: ["vip","b2b"]'],
    ["{{ record.address }} ok", '{"city":"Berlin"} ok'],
    ["{{ record.active }}!", "false!"],
    ["{{ record.nothing }}-", "-"],
    ["{% if true %}{{ record.value }}{% endif %}", "50000"],
  ])("%j", (template, expected) => {
    expect(render(template)).toEqual(expected);
  });
});

describe("walking configs", () => {
  it("renders strings in nested objects and arrays, copies everything else, and lists substitutions", () => {
    const config = {
      url: "https://hooks.example.com/{{ record.id }}",
      method: "POST",
      timeout_ms: 5000,
      sync: true,
      nothing: null,
      headers: { "X-User": "{{ user.id }}" },
      body: {
        text: "New deal: {{ record.name }} for ${{ record.value }}",
        amount: "{{ record.value }}",
        items: [{ sku: "{{ loop.item.sku }}", qty: 1 }, "{{ record.tags }}", ["{{ record.address.city | upcase }}"]],
      },
    };
    const frozen = JSON.parse(JSON.stringify(config));
    const { value, substitutions } = renderValue(config, ctx);
    expect(value).toEqual({
      url: "https://hooks.example.com/rec_1",
      method: "POST",
      timeout_ms: 5000,
      sync: true,
      nothing: null,
      headers: { "X-User": "u1" },
      body: {
        text: "New deal: John Smith for $50000",
        amount: 50000,
        items: [{ sku: "A-1", qty: 1 }, ["vip", "b2b"], ["BERLIN"]],
      },
    });
    expect(config).toEqual(frozen);
    expect(substitutions.map((s) => s.path)).toEqual([
      "url",
      "headers.X-User",
      "body.text",
      "body.amount",
      "body.items.0.sku",
      "body.items.1",
      "body.items.2.0",
    ]);
    expect(substitutions[3]).toEqual({ path: "body.amount", template: "{{ record.value }}", value: 50000 });
  });

  it("renders a bare string and leaves non-template strings untouched", () => {
    expect(renderValue("{{ record.name }}", ctx)).toEqual({
      value: "John Smith",
      substitutions: [{ path: "", template: "{{ record.name }}", value: "John Smith" }],
    });
    expect(renderValue("plain { text } }}", ctx)).toEqual({ value: "plain { text } }}", substitutions: [] });
    expect(renderValue(42, ctx).value).toBe(42);
  });

  it("keeps a `__proto__` key as data without touching prototypes", () => {
    const config = JSON.parse('{"__proto__": {"polluted": "{{ record.name }}"}, "a": "{{ record.id }}"}');
    const out = render(config) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, "__proto__")).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"John Smith"},"a":"rec_1"}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses configs nested too deeply", () => {
    let deep: unknown = "{{ record.id }}";
    for (let i = 0; i < LIMITS.MAX_EXPRESSION_DEPTH + 1; i++) deep = { d: deep };
    expect(templateError(() => render(deep)).issues[0]).toMatchObject({
      kind: "LIMIT",
      message: expect.stringMatching(/nested deeper/),
    });
  });

  it("needs a clock", () => {
    expect(() => renderValue("{{ now }}", { now: Number.NaN })).toThrow(/now must be a finite number/);
  });
});

describe("errors", () => {
  it("names the field, line and column of a template that does not parse", () => {
    const e = templateError(() => render({ a: "fine", body: { text: "line one\nline two {{ record.name" } }));
    expect(e.code).toBe("TEMPLATE_ERROR");
    expect(e.path).toBe("body.text");
    expect(e.line).toBe(2);
    expect(e.col).toBe(10);
    expect(e.message).toMatch(/^Template error at body.text \(line 2, col 10\): output "{{ record.name" not closed/);
  });

  it.each<[string, RegExp, number, number]>([
    ["{{ record.name | nosuchfilter }}", /undefined filter: nosuchfilter/, 1, 1],
    ["a\n  {{ x | nosuchfilter }}", /undefined filter: nosuchfilter/, 2, 3],
    ["{% nosuchtag %}", /tag "nosuchtag" not found/, 1, 1],
    ["ok {% if record.a %}unclosed", /tag {% if record.a %} not closed/, 1, 4],
    ["{% endif %}", /tag "endif" not found/, 1, 1],
    ["{% include 'secrets' %}", /tag "include" not found/, 1, 1],
    ["{% render 'x' %}", /tag "render" not found/, 1, 1],
    ["{% layout 'x' %}", /tag "layout" not found/, 1, 1],
  ])("%j", (template, message, line, col) => {
    const e = templateError(() => render({ f: template }));
    expect(e.issues[0]).toMatchObject({ path: "f", kind: "TEMPLATE_SYNTAX", line, col });
    expect(e.issues[0].message).toMatch(message);
  });

  it("reports every failing string at once", () => {
    const e = templateError(() => render({ a: "{{ x", b: ["ok", "{% if %}"], c: "{{ y | nope }}" }));
    expect(e.issues.map((i) => i.path)).toEqual(["a", "b.1", "c"]);
    expect(e.message).toMatch(/\(and 2 more\)$/);
  });

  it("strict mode reports each missing variable; if/default still work", () => {
    const e = templateError(() =>
      render({ a: "{{ record.nope }}", b: "Hi {{ user.nickname }}", c: "{{ record.name }}" }, { strict: true }),
    );
    expect(e.issues).toEqual([
      { path: "a", kind: "UNDEFINED_VARIABLE", message: "undefined variable: record.nope", line: 1, col: 4 },
      { path: "b", kind: "UNDEFINED_VARIABLE", message: "undefined variable: user.nickname", line: 1, col: 7 },
    ]);
    expect(
      render({ a: "{{ record.nope | default: 'x' }}", b: "{% if record.nope %}y{% else %}n{% endif %}" }, { strict: true }),
    ).toEqual({ a: "x", b: "n" });
  });

  it("validateTemplates checks syntax only", () => {
    expect(validateTemplates({ a: "{{ record.nope }}", b: [1, "{{ fine | upcase }}"] })).toEqual([]);
    expect(validateTemplates({ a: ["ok", "{{ bad"], b: { c: "{% endif %}" } })).toEqual([
      { path: "a.1", at: ["a", 1], kind: "TEMPLATE_SYNTAX", message: 'output "{{ bad" not closed', line: 1, col: 1 },
      { path: "b.c", at: ["b", "c"], kind: "TEMPLATE_SYNTAX", message: 'tag "endif" not found', line: 1, col: 1 },
    ]);
  });
});

describe("injection attempts see nothing", () => {
  it.each([
    "{{ constructor }}",
    "{{ this }}",
    "{{ __proto__ }}",
    "{{ globalThis }}",
    "{{ process.env }}",
    "{{ record.constructor }}",
    "{{ record.__proto__ }}",
    "{{ record.constructor.constructor }}",
    "{{ record.name.constructor }}",
    "{{ record.tags.constructor.name }}",
    "{{ record['constructor'] }}",
    "{% assign c = 'constructor' %}{{ record[c] }}",
    "{{ record.hasOwnProperty }}",
    "{{ record.toString }}",
    "{{ record.valueOf }}",
    "{{ record.__defineGetter__ }}",
    "{{ actions.a1.outputs.list.push }}",
    "{{ user.email.length.constructor }}",
  ])("%s", (template) => {
    expect(render(template)).toBe("");
  });

  it("filters over properties do not reach prototypes either", () => {
    expect(render("{{ record | map: 'constructor' | compact | size }}")).toBe(0);
    expect(render("{{ record.tags | map: '__proto__' | compact | size }}")).toBe(0);
  });
});

describe("bounds", () => {
  it("stops runaway loops (memory limit)", () => {
    const e = templateError(() => render("{% for i in (1..100000000) %}x{% endfor %}"));
    expect(e.issues[0]).toMatchObject({ kind: "RENDER", message: "memory alloc limit exceeded" });
  });

  it("stops output over the size limit, captures included", () => {
    // A kilobyte per iteration: the size limit is reached in a few hundred iterations, long before the render's
    // time limit (wall clock, MAX_TEMPLATE_RENDER_MS), however busy the machine.
    const kb = "x".repeat(1024);
    expect(
      templateError(() => render(`{% for i in (1..1000) %}{% for j in (1..1000) %}${kb}{% endfor %}{% endfor %}`)).message,
    ).toMatch(/rendered output exceeds/);
    expect(
      templateError(() => render(`{% capture c %}{% for i in (1..50000) %}${kb}{% endfor %}{% endcapture %}{{ c | size }}`))
        .message,
    ).toMatch(/rendered output exceeds/);
  });

  it("refuses templates over the length limit", () => {
    const long = `{{ record.name }}${"x".repeat(LIMITS.MAX_TEMPLATE_LENGTH)}`;
    expect(templateError(() => render(long)).issues[0]).toMatchObject({
      kind: "TEMPLATE_SYNTAX",
      message: expect.stringMatching(/longer than/),
    });
  });

  it("renders the same template many times from the cache", () => {
    for (let i = 0; i < 200; i++) expect(render(`{{ record.value | plus: ${i % 3} }}`)).toBe(50000 + (i % 3));
  });
});

describe("html mode (e-mail and document templates)", () => {
  const hostile: TemplateContext = {
    ...ctx,
    record: { name: `<img src=x onerror="alert(1)"> & 'Co'`, n: 5, html: "<b>bold</b>" },
  };
  const html = (value: unknown) => renderValue(value, hostile, { mode: "html" }).value;

  it("escapes every output, in text and as a single expression, so a value cannot inject markup", () => {
    expect(html("<p>Hi {{ record.name }}</p>")).toBe("<p>Hi &lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &#39;Co&#39;</p>");
    expect(html("{{ record.name }}")).toBe("&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &#39;Co&#39;");
    // The template's own markup is the author's: it stays.
    expect(html("<b>{{ record.n | plus: 1 }}</b>")).toBe("<b>6</b>");
  });

  it("`| raw` inserts a value as markup on purpose; text mode is unchanged", () => {
    expect(html("<div>{{ record.html | raw }}</div>")).toBe("<div><b>bold</b></div>");
    expect(renderValue("<p>{{ record.name }}</p>", hostile).value).toBe(`<p><img src=x onerror="alert(1)"> & 'Co'</p>`);
  });

  it("keeps the two modes' parsed templates apart (the same source renders per its mode)", () => {
    const source = "x {{ record.html }}";
    expect(html(source)).toBe("x &lt;b&gt;bold&lt;/b&gt;");
    expect(renderValue(source, hostile).value).toBe("x <b>bold</b>");
    expect(html(source)).toBe("x &lt;b&gt;bold&lt;/b&gt;");
  });
});
