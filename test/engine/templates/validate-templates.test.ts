import { describe, expect, it } from "vitest";
import {
  TemplateError,
  flowTemplateIssues,
  renderValue,
  templateIssueMessage,
  validateTemplates,
} from "../../../src/engine/templates";
import { LIMITS } from "../../../src/lib/limits";

const NOW = Date.UTC(2024, 0, 15, 10, 0, 0);
const issueOf = (template: string) => {
  const issues = validateTemplates(template);
  expect(issues.length).toBeLessThanOrEqual(1);
  return issues[0];
};

describe("validateTemplates: what is a syntax error", () => {
  // Each row: a template and the message and position of its error. Every one of these must be a 400 at save time.
  it.each([
    // liquidjs accepts a `|` with nothing after it and drops it silently: we refuse it.
    ["{{ x | }}", 'expected a filter name after "|"', 1, 6],
    ["{{ x |}}", 'expected a filter name after "|"', 1, 6],
    ["{{x|}}", 'expected a filter name after "|"', 1, 4],
    ["{{ x | upcase | }}", 'expected a filter name after "|"', 1, 15],
    ["{{- x | -}}", 'expected a filter name after "|"', 1, 7],
    ["Dear\n  {{ name | }}", 'expected a filter name after "|"', 2, 11],
    ["{{ x | default: }}", 'expected a filter argument after ":"', 1, 15],
    ["{{ x | default: | upcase }}", 'expected a filter argument after ":"', 1, 15],
    ["{{ x | default: 1, }}", 'expected a filter argument after ","', 1, 18],
    // The same gap inside tags whose arguments are expressions.
    ["{% if x | %}a{% endif %}", 'expected a filter name after "|"', 1, 9],
    ["{% assign y = x | %}{{ y }}", 'expected a filter name after "|"', 1, 17],
    ["{% echo x | %}", 'expected a filter name after "|"', 1, 11],
    ["{% liquid\n assign y = 1\n echo y |\n%}", 'expected a filter name after "|"', 3, 9],
    // Errors liquidjs itself reports.
    ["{{ x | | upcase }}", "expected filter name", 1, 8],
    ["{{ x", 'output "{{ x" not closed', 1, 1],
    ["{{ x }", 'output "{{ x }" not closed', 1, 1],
    ["{% if x %}yes", "tag {% if x %} not closed", 1, 1],
    ["{% if %}{% endif %}", 'invalid value expression: ""', 1, 6],
    ["{% endif %}", 'tag "endif" not found', 1, 1],
    ["{{ }}", 'invalid value expression: ""', 1, 4],
    // Unknown filters are errors in every mode (strict or not): a typo never renders silently.
    ["{{ x | nope }}", "undefined filter: nope", 1, 1],
    // File access tags are removed.
    ["{% include 'x' %}", 'tag "include" not found', 1, 1],
  ])("%j → %s", (template, message, line, col) => {
    expect(issueOf(template)).toEqual({ path: "", at: [], kind: "TEMPLATE_SYNTAX", message, line, col });
  });

  it.each([
    "plain text | with a pipe: and, commas",
    "{{ x }}",
    "{{ x | upcase }}",
    "{{ x | default: 'a' | upcase }}",
    "{{ x | replace: 'a', 'b' }}",
    "{{ 'a | b' }}",
    '{{ "a |" | append: ": ," }}',
    "{{ 'it\\'s |' }}",
    "{{ record.missing }}",
    "{% if x %}a{% elsif y %}b{% else %}c{% endif %}",
    "{% for i in (1..3) limit: 2 %}{{ i }}{% endfor %}",
    // Raw text and comments are not expressions.
    "{% raw %}{{ x | }}{% endraw %}",
    "{% comment %}{{ x | }} {% if | %}{% endcomment %}{{ x }}",
    "{% # a note: x | %}{{ x }}",
    "{% liquid\n # note |\n echo x | upcase\n%}",
  ])("%j is valid", (template) => {
    expect(validateTemplates(template)).toEqual([]);
  });

  it("names every bad string of a nested value by its path, keeps going after the first", () => {
    const issues = validateTemplates({
      ok: "{{ a }}",
      body: { text: "Hi {{ name | }}", "x.y": ["fine", "{% if %}{% endif %}"] },
      n: 3,
    });
    expect(issues.map((i) => [i.path, i.at])).toEqual([
      ["body.text", ["body", "text"]],
      ["body.x.y.1", ["body", "x.y", 1]],
    ]);
    expect(templateIssueMessage(issues[0])).toBe('Invalid template (line 1, column 12): expected a filter name after "|"');
  });

  it("reports values nested deeper than the limit, once", () => {
    let deep: unknown = "{{ x }}";
    for (let i = 0; i < LIMITS.MAX_EXPRESSION_DEPTH + 1; i++) deep = { d: deep };
    const issues = validateTemplates(deep);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: "LIMIT", at: Array(LIMITS.MAX_EXPRESSION_DEPTH).fill("d") });
    expect(templateIssueMessage(issues[0])).toBe(`Invalid template: nested deeper than ${LIMITS.MAX_EXPRESSION_DEPTH} levels`);
  });

  it("the renderer refuses a dangling filter too, so a stored template can never render as if it were not there", () => {
    let error: unknown;
    try {
      renderValue({ a: "{{ x | }}", b: "{{ x }}" }, { now: NOW, x: "v" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).issues).toEqual([
      { path: "a", kind: "TEMPLATE_SYNTAX", message: 'expected a filter name after "|"', line: 1, col: 6 },
    ]);
  });
});

describe("flowTemplateIssues", () => {
  it("names action config fields and error_handling.notify_url by their path in the flow document", () => {
    const issues = flowTemplateIssues({
      actions: [
        { config: { url: "https://x.test/{{ record.id }}" } },
        {},
        { config: { body: { text: "{{ x | }}" }, list: ["{{ y"] } },
      ],
      error_handling: { notify_url: "https://x.test/{{ id | }}" },
    });
    expect(issues).toEqual([
      {
        path: ["actions", 2, "config", "body", "text"],
        message: 'Invalid template (line 1, column 6): expected a filter name after "|"',
      },
      { path: ["actions", 2, "config", "list", 0], message: 'Invalid template (line 1, column 1): output "{{ y" not closed' },
      {
        path: ["error_handling", "notify_url"],
        message: 'Invalid template (line 1, column 22): expected a filter name after "|"',
      },
    ]);
  });

  it("is empty for a flow whose templates parse", () => {
    expect(flowTemplateIssues({ actions: [{ config: { a: "{{ record.id | upcase }}", b: 1 } }], error_handling: null })).toEqual(
      [],
    );
  });
});
