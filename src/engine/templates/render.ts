import { Context, type Liquid, LiquidError, Output, type Template, toValue, toValueSync } from "liquidjs";
import { LIMITS } from "../../lib/limits";
import { BUDGET_REGISTER, BoundedEmitter, NOW_REGISTER, OutputLimitError, type OutputBudget, createEngine } from "./engine";
import { danglingFilter } from "./lint";

/**
 * Compiles and renders one template string. A string that is exactly one `{{ expression }}` (surrounding whitespace
 * ignored) keeps the value's type: `"{{ record.value }}"` → 50000, an object stays an object. Anything else renders
 * to text. Parsed templates are kept in a small LRU cache: the same configs are rendered over and over.
 */

export interface TemplateIssue {
  message: string;
  line?: number;
  col?: number;
  /** TEMPLATE_SYNTAX (does not parse), UNDEFINED_VARIABLE (strict mode), RENDER (failed while rendering). */
  kind: "TEMPLATE_SYNTAX" | "UNDEFINED_VARIABLE" | "RENDER";
}

type Compiled =
  | { kind: "literal" }
  | { kind: "single"; output: Output }
  | { kind: "text"; templates: Template[] }
  | { kind: "invalid"; issue: TemplateIssue };

const LITERAL: Compiled = { kind: "literal" };
/** liquidjs TokenKind.HTML (the enum is declared, not exported as a value). */
const HTML_TOKEN = 16;

/** `text`: values inserted as they are; `html`: every output HTML-escaped unless it ends in `| raw`. */
export type TemplateMode = "text" | "html";

const modes: Record<TemplateMode, { engine: Liquid; cache: Map<string, Compiled> }> = {
  text: { engine: createEngine(), cache: new Map() },
  html: { engine: createEngine({ escapeOutput: true }), cache: new Map() },
};

/** Only strings with a Liquid delimiter are templates; everything else is copied as is, without parsing. */
export const isTemplate = (s: string): boolean => s.includes("{{") || s.includes("{%");

export function compile(source: string, mode: TemplateMode = "text"): Compiled {
  if (!isTemplate(source)) return LITERAL;
  const { engine, cache } = modes[mode];
  const hit = cache.get(source);
  if (hit) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const compiled = compileUncached(source, engine);
  if (cache.size >= LIMITS.TEMPLATE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(source, compiled);
  return compiled;
}

function compileUncached(source: string, engine: Liquid): Compiled {
  if (source.length > LIMITS.MAX_TEMPLATE_LENGTH) {
    return {
      kind: "invalid",
      issue: { kind: "TEMPLATE_SYNTAX", message: `template longer than ${LIMITS.MAX_TEMPLATE_LENGTH} characters` },
    };
  }
  let templates: Template[];
  try {
    templates = engine.parse(source);
  } catch (e) {
    return { kind: "invalid", issue: issueOf(e, "TEMPLATE_SYNTAX") };
  }
  const dangling = danglingFilter(source, engine.options);
  if (dangling) return { kind: "invalid", issue: { kind: "TEMPLATE_SYNTAX", ...dangling } };
  const meaningful = templates.filter((t) => !(t.token.kind === HTML_TOKEN && t.token.getText().trim() === ""));
  if (meaningful.length === 1 && meaningful[0] instanceof Output) return { kind: "single", output: meaningful[0] };
  return { kind: "text", templates };
}

export class RenderFailure extends Error {
  constructor(readonly issue: TemplateIssue) {
    super(issue.message);
    this.name = "RenderFailure";
  }
}

/** Renders a compiled template; throws RenderFailure. `literal` and `invalid` are the caller's business. */
export function renderCompiled(c: Compiled, scope: object, strict: boolean, nowMs: number, mode: TemplateMode = "text"): unknown {
  if (c.kind === "literal" || c.kind === "invalid") throw new Error("not a renderable template");
  const { engine } = modes[mode];
  const budget: OutputBudget = { left: LIMITS.MAX_TEMPLATE_OUTPUT_CHARS };
  const ctx = new Context(
    scope,
    engine.options,
    { sync: true, strictVariables: strict, ownPropertyOnly: true },
    { liquid: engine },
  );
  ctx.setRegister(NOW_REGISTER, nowMs);
  ctx.setRegister(BUDGET_REGISTER, budget);
  if (c.kind === "single") {
    try {
      const value = toValue(toValueSync(c.output.value.value(ctx, false)));
      if (typeof value === "string" && value.length > budget.left) throw new OutputLimitError();
      return value;
    } catch (e) {
      throw new RenderFailure(issueOf(e, "RENDER", c.output.token.getPosition()));
    }
  }
  const emitter = new BoundedEmitter(budget);
  try {
    toValueSync(engine.renderer.renderTemplates(c.templates, ctx, emitter));
  } catch (e) {
    throw new RenderFailure(issueOf(e, "RENDER"));
  }
  return emitter.buffer;
}

/** A clean message and position from a liquidjs error (its own message repeats the position). */
function issueOf(e: unknown, fallback: TemplateIssue["kind"], at?: number[]): TemplateIssue {
  if (LiquidError.is(e)) {
    const original = e.originalError;
    const [line, col] = e.token ? e.token.getPosition() : (at ?? []);
    const kind = e.name === "UndefinedVariableError" ? "UNDEFINED_VARIABLE" : e.name === "RenderError" ? "RENDER" : fallback;
    const message = (original && !LiquidError.is(original) ? original.message : e.message).replace(
      /(, file:.*)?, line:\d+, col:\d+$/,
      "",
    );
    return { kind, message, line, col };
  }
  const [line, col] = at ?? [];
  return { kind: fallback, message: e instanceof Error ? e.message : String(e), line, col };
}
