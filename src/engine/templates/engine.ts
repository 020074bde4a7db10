import { CaptureTag, type Context, type Emitter, type FilterImplOptions, Liquid, toValue } from "liquidjs";
import { LIMITS } from "../../lib/limits";
import { toNumber } from "../conditions/compare";
import { DAY_MS, isoDate, toInstant } from "../conditions/dates";
import { formatDate } from "./date-format";

/**
 * The one Liquid engine of the project: standard Liquid tags and filters, plus Coherence's `uppercase`, `lowercase`,
 * `add_days` and `date_format`. No file access (include/render/layout/block are removed), unknown filters are parse
 * errors, only own properties are readable (no prototypes), and every render is bounded in size, memory and time.
 */

export const NOW_REGISTER = "__now_ms";
export const BUDGET_REGISTER = "__output_budget";

/** Thrown when a render's output would exceed LIMITS.MAX_TEMPLATE_OUTPUT_CHARS. */
export class OutputLimitError extends Error {
  constructor() {
    super(`rendered output exceeds ${LIMITS.MAX_TEMPLATE_OUTPUT_CHARS} characters`);
    this.name = "OutputLimitError";
  }
}

/** Characters left for one render, shared by the main output and every capture. */
export interface OutputBudget {
  left: number;
}

/** Text of an output value: objects and arrays as JSON, dates as ISO strings, nil as nothing. */
export function textOf(value: unknown): string {
  const v = toValue(value);
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.toISOString() : "";
  if (typeof v === "object") return JSON.stringify(v) ?? "";
  return String(v);
}

/** An emitter that writes text and stops the render when the budget is spent. */
export class BoundedEmitter implements Emitter {
  buffer = "";
  constructor(private readonly budget: OutputBudget) {}
  write(html: unknown): void {
    const s = textOf(html);
    this.budget.left -= s.length;
    if (this.budget.left < 0) throw new OutputLimitError();
    this.buffer += s;
  }
}

/** `{% capture %}` rendered into the same bounded budget as the main output. */
class BoundedCaptureTag extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, string> {
    const budget = ctx.getRegister<OutputBudget>(BUDGET_REGISTER, { left: LIMITS.MAX_TEMPLATE_OUTPUT_CHARS });
    const emitter = new BoundedEmitter(budget);
    yield this.liquid.renderer.renderTemplates(this.templates, ctx, emitter);
    ctx.bottom()[this.variable] = emitter.buffer;
  }
}

type FilterThis = { context: Context };
const nowOf = (self: FilterThis): number => self.context.getRegister<number>(NOW_REGISTER, 0);

/** An instant from a filter input: ISO strings, epoch ms, dates, and the words "now" / "today". */
function instantOf(self: FilterThis, value: unknown): { ms: number; dateOnly: boolean } | null {
  const v = toValue(value);
  if (v === "now") return { ms: nowOf(self), dateOnly: false };
  if (v === "today") return { ms: nowOf(self), dateOnly: true };
  return toInstant(v);
}

const nil = (v: unknown) => v === null || v === undefined;

function addDays(this: FilterThis, value: unknown, days: unknown): unknown {
  if (nil(value)) return "";
  const n = toNumber(days);
  if (n === null) throw new Error(`add_days needs a number of days, got ${JSON.stringify(days) ?? String(days)}`);
  const t = instantOf(this, value);
  // Like Liquid's `date`, an input that is not a date is passed through unchanged.
  if (!t) return value;
  const ms = t.ms + Math.round(n * DAY_MS);
  return t.dateOnly ? isoDate(ms) : new Date(ms).toISOString();
}

function dateFormat(this: FilterThis, value: unknown, format: unknown = "YYYY-MM-DD", timeZone?: unknown): unknown {
  if (nil(value)) return "";
  const t = instantOf(this, value);
  if (!t) return value;
  if (typeof format !== "string") throw new Error('date_format needs a format string, e.g. "MMM D, YYYY"');
  if (timeZone !== undefined && typeof timeZone !== "string") throw new Error("date_format's time zone must be a string");
  return formatDate(t.ms, format, timeZone);
}

const text = (v: unknown) => (nil(v) ? "" : textOf(v));

/**
 * The Liquid engine of every template. `escapeOutput` makes every `{{ … }}` HTML-escaped unless its last filter is
 * `raw` (liquidjs's `outputEscape`): the engine of templates whose output is HTML (e-mail and document templates).
 */
export function createEngine({ escapeOutput = false }: { escapeOutput?: boolean } = {}): Liquid {
  const engine = new Liquid({
    ...(escapeOutput ? { outputEscape: "escape" as const } : {}),
    strictFilters: true,
    strictVariables: false,
    // In strict mode, `{% if x %}` and `| default:` still work on missing variables.
    lenientIf: true,
    ownPropertyOnly: true,
    timezoneOffset: 0,
    parseLimit: LIMITS.MAX_TEMPLATE_LENGTH,
    renderLimit: LIMITS.MAX_TEMPLATE_RENDER_MS,
    memoryLimit: LIMITS.MAX_TEMPLATE_MEMORY,
  });
  // No template files exist here: partials and layouts would only probe a file system.
  for (const tag of ["include", "render", "layout", "block"]) delete engine.tags[tag];
  engine.registerTag("capture", BoundedCaptureTag);

  engine.registerFilter("uppercase", (v: unknown) => text(v).toUpperCase());
  engine.registerFilter("lowercase", (v: unknown) => text(v).toLowerCase());
  engine.registerFilter("add_days", addDays as FilterImplOptions);
  engine.registerFilter("date_format", dateFormat as FilterImplOptions);

  // Liquid's `date` reads the host clock for "now"/"today"; use the engine's clock instead.
  const builtin = engine.filters.date;
  const date = (typeof builtin === "function" ? builtin : builtin.handler) as (
    this: FilterThis,
    v: unknown,
    ...args: unknown[]
  ) => unknown;
  engine.registerFilter("date", function (this: FilterThis, v: unknown, ...args: unknown[]) {
    const input = toValue(v);
    const value = input === "now" || input === "today" ? new Date(nowOf(this)) : v;
    return date.call(this, value, ...args);
  } as FilterImplOptions);
  return engine;
}
