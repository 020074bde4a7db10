import { compile } from "./render";
import { type Location, walkStrings } from "./walk";

/**
 * Parse-only check of every template string in a JSON value, for 400s before anything is stored or rendered:
 * syntax errors (unclosed `{{`/`{%`, unclosed blocks, unknown tags or filters, a dangling `|`) and values nested too
 * deep. Variables are not looked up: whether they exist is only known at run time.
 */

export interface TemplateFieldIssue extends Location {
  message: string;
  line?: number;
  col?: number;
  kind: "TEMPLATE_SYNTAX" | "LIMIT";
}

export function validateTemplates(value: unknown): TemplateFieldIssue[] {
  const issues: TemplateFieldIssue[] = [];
  const { limits } = walkStrings(value, (source, loc) => {
    const compiled = compile(source);
    if (compiled.kind === "invalid") {
      const { message, line, col } = compiled.issue;
      issues.push({ ...loc, kind: "TEMPLATE_SYNTAX", message, ...(line !== undefined ? { line, col } : {}) });
    }
    return source;
  });
  return [...issues, ...limits];
}

/** The text a 400 detail shows for an issue: `Invalid template (line 1, column 7): <message>`. */
export function templateIssueMessage(issue: TemplateFieldIssue): string {
  const where = issue.line !== undefined ? ` (line ${issue.line}, column ${issue.col})` : "";
  return `Invalid template${where}: ${issue.message}`;
}

/** The parts of a flow document whose strings are rendered as templates. */
export interface TemplatedFlowParts {
  actions: readonly { config?: unknown }[];
  error_handling?: { notify_url?: unknown } | null;
}

/**
 * Template issues of a flow document, each with the path of the field in the document
 * (`actions.2.config.body.text`, `error_handling.notify_url`), for the flow schema's validation.
 */
export function flowTemplateIssues(flow: TemplatedFlowParts): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  flow.actions.forEach((action, i) => {
    for (const issue of validateTemplates(action.config))
      issues.push({ path: ["actions", i, "config", ...issue.at], message: templateIssueMessage(issue) });
  });
  for (const issue of validateTemplates(flow.error_handling?.notify_url))
    issues.push({ path: ["error_handling", "notify_url", ...issue.at], message: templateIssueMessage(issue) });
  return issues;
}
