import { RenderFailure, type TemplateMode, compile, renderCompiled } from "./render";

export type { TemplateMode } from "./render";
import { setOwn, walkStrings } from "./walk";

/**
 * Liquid templates in action configs (docs/expressions.md). Rendering walks a whole config: every string inside nested
 * objects and arrays is a template; other values are copied. Synchronous, so the engine can call it inline.
 */

export interface TemplateContext {
  record?: Record<string, unknown> | null;
  entity?: Record<string, unknown> | null;
  previous?: Record<string, unknown>;
  trigger?: Record<string, unknown>;
  actions?: Record<string, unknown>;
  loop?: { item: unknown; index: number };
  variables?: Record<string, unknown>;
  user?: { id?: string; email?: string };
  /** The engine's clock in ms; `{{ now }}` renders its ISO string. */
  now: number;
  /** Further roots (e.g. `execution`) are visible to templates as they are. */
  [root: string]: unknown;
}

export interface Substitution {
  path: string;
  template: string;
  value: unknown;
}

export interface TemplateIssueAt {
  /** Dotted path of the string inside the rendered value (`body.items.0.name`; "" for the value itself). */
  path: string;
  message: string;
  line?: number;
  col?: number;
  kind: "TEMPLATE_SYNTAX" | "UNDEFINED_VARIABLE" | "RENDER" | "LIMIT";
}

/** A template that does not parse or render; `issues` lists every failing string, the first one is on the error itself. */
export class TemplateError extends Error {
  readonly code = "TEMPLATE_ERROR";
  readonly path: string;
  readonly line?: number;
  readonly col?: number;
  constructor(readonly issues: TemplateIssueAt[]) {
    const first = issues[0];
    const where = first.line !== undefined ? ` (line ${first.line}, col ${first.col})` : "";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`Template error at ${first.path || "(value)"}${where}: ${first.message}${more}`);
    this.name = "TemplateError";
    this.path = first.path;
    this.line = first.line;
    this.col = first.col;
  }
}

/** The variables templates see: the context's roots, `record`/`entity` as aliases, `now` as an ISO string. */
function scopeOf(ctx: TemplateContext): Record<string, unknown> {
  const scope: Record<string, unknown> = {};
  for (const key of Object.keys(ctx)) if (ctx[key] !== undefined && key !== "now") setOwn(scope, key, ctx[key]);
  const record = ctx.record ?? ctx.entity;
  if (record !== undefined) {
    scope.record = record;
    scope.entity = ctx.entity ?? record;
  }
  scope.now = new Date(ctx.now).toISOString();
  return scope;
}

/**
 * Renders every template string in `value`. Missing variables render empty unless `strict`, where each is an issue.
 * `mode: "html"` HTML-escapes every output (`| raw` opts out): for templates whose result is HTML, so a record's
 * value cannot inject markup. Throws TemplateError listing every string that failed; the input is never modified.
 */
export function renderValue(
  value: unknown,
  ctx: TemplateContext,
  opts: { strict?: boolean; mode?: TemplateMode } = {},
): { value: unknown; substitutions: Substitution[] } {
  if (!Number.isFinite(ctx.now)) throw new TypeError("TemplateContext.now must be a finite number of milliseconds");
  const substitutions: Substitution[] = [];
  const issues: TemplateIssueAt[] = [];
  let scope: Record<string, unknown> | undefined;
  const walked = walkStrings(value, (source, { path }) => {
    const compiled = compile(source, opts.mode);
    if (compiled.kind === "literal") return source;
    if (compiled.kind === "invalid") {
      issues.push({ path, ...compiled.issue });
      return source;
    }
    scope ??= scopeOf(ctx);
    try {
      const rendered = renderCompiled(compiled, scope, opts.strict === true, ctx.now, opts.mode);
      substitutions.push({ path, template: source, value: rendered === undefined ? "" : rendered });
      return rendered === undefined ? "" : rendered;
    } catch (e) {
      if (!(e instanceof RenderFailure)) throw e;
      issues.push({ path, ...e.issue });
      return source;
    }
  });
  for (const { path, kind, message } of walked.limits) issues.push({ path, kind, message });
  if (issues.length > 0) throw new TemplateError(issues);
  return { value: walked.value, substitutions };
}

export { flowTemplateIssues, templateIssueMessage, validateTemplates } from "./validate-templates";
