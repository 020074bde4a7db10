import type { z } from "@hono/zod-openapi";
import { AppError, type ErrorDetail } from "../lib/errors";

/**
 * What a dialect is. Each dialect (Coherence, TrustPager, Arrotech workflows and agents, Plura) serves another API's
 * document for a core value (a flow, an agent, an execute request) through one lens:
 *
 * - `schema`: its document, as its API serves it;
 * - `toCore` / `fromCore`: the two directions; `fromCore` names what the document cannot express (`untranslated`);
 * - `errorPath`: a core validation issue's path as the dialect field it came from, so a 400 names the caller's fields;
 * - `roundTrip`: what writing a read document back must give again.
 *
 * A reading is exact when nothing is lost: then the dialect may write it back. An inexact one is shown with the
 * core document as `x_native` and refused on writes (409 NOT_EXPRESSIBLE). The validation, the error remapping and
 * the round-trip check live here, once; a dialect only says how its document maps.
 */

export interface Reading<Doc, Keep> {
  /** The dialect's document of the core value. */
  doc: Doc;
  /** What a write back needs that the document does not show (a webhook URL's token, stored ids). */
  keep: Keep;
  /** Parts of the core value the document cannot express, named (empty when it names no loss). */
  untranslated: string[];
}

export interface View<Doc, Keep> extends Reading<Doc, Keep> {
  /** True when writing `doc` back gives the core value again: the dialect may edit it. */
  exact: boolean;
}

export interface RoundTrip<Core, Out> {
  /** The parts of a core document that writing its reading back must give again (compared as stable JSON). */
  keeps(doc: Core | Out): unknown;
  /**
   * The round trip alone decides exactness; `untranslated` only explains a loss (Arrotech: a flow whose extra parts
   * say nothing, such as a second bare manual trigger, stays exact). Otherwise a named loss is inexact at once.
   */
  decidesAlone?: boolean;
}

export interface LensSpec<Core, Write, Doc extends Write, Keep, In, Out> {
  /** How the refusal of a write names the dialect: "the Coherence API". */
  title: string;
  /** How the refusal names one document: "automation". */
  noun: string;
  /** The dialect's document, as its API serves it. */
  schema: z.ZodType;
  /** The core schema a written document must pass; without one, the service it goes to validates (agents, Plura). */
  core?: z.ZodType<Out, In>;
  /** Checks the core schema would make but cannot word in the dialect's fields; they run first. */
  check?(doc: Write): ErrorDetail[];
  toCore(doc: Write, keep?: Keep): In;
  /** A core issue's path named as the dialect field it came from (default: the path itself). */
  errorPath?(path: string[], doc: Write, input: In): string;
  fromCore(core: Core): Reading<Doc, Keep>;
  /** Without one, every reading that names no loss is exact (the document is the core value, renamed). */
  roundTrip?: RoundTrip<Core, Out>;
  /** Shows `untranslated` as `x_untranslated` next to `x_native`. */
  showsUntranslated?: boolean;
  /** The message of a refused write (default: the document uses features the dialect cannot express). */
  refusal?(untranslated: string[]): string;
}

export interface Lens<Core, Write, Doc extends Write, Keep, In, Out> {
  readonly spec: LensSpec<Core, Write, Doc, Keep, In, Out>;
  /** The core input of a document, validated; a 400 names the dialect's fields. */
  write(doc: Write, keep?: Keep): Out;
  /** The dialect's view of a core value, and whether it says everything. */
  read(core: Core): View<Doc, Keep>;
  /** The 409 for a write to a view that is not exact. */
  refusal(view: View<Doc, Keep>): AppError;
  /** The view of a value the dialect is about to write back; 409 when it cannot say everything. */
  editable(core: Core): View<Doc, Keep>;
  /** What a response adds for an inexact view: the core value as `x_native` (and, if the dialect shows it, the list). */
  native(view: View<Doc, Keep>, core: Core): { x_native?: Core; x_untranslated?: string[] };
}

/** The common 400 of a request body, naming each bad field. */
export const invalidBody = (details: ErrorDetail[]): AppError =>
  new AppError(400, "VALIDATION_ERROR", "Invalid request body", details);

/** The fallback entry of `untranslated` when only the round trip tells a loss. */
export const differsFrom = (noun: string) => `the flow differs from its ${noun} translation`;

export function defineLens<Core, Write, Doc extends Write, Keep = undefined, In = Write, Out = In>(
  spec: LensSpec<Core, Write, Doc, Keep, In, Out>,
): Lens<Core, Write, Doc, Keep, In, Out> {
  const write = (doc: Write, keep?: Keep): Out => {
    const problems = spec.check?.(doc) ?? [];
    if (problems.length > 0) throw invalidBody(problems);
    const input = spec.toCore(doc, keep);
    // Without a core schema the document's input is the core input (the service behind it validates).
    if (!spec.core) return input as unknown as Out;
    const parsed = spec.core.safeParse(input);
    if (parsed.success) return parsed.data;
    throw invalidBody(
      parsed.error.issues.map((i) => {
        const path = i.path.map(String);
        return {
          path: spec.errorPath ? spec.errorPath(path, doc, input) : path.join("."),
          location: "json",
          message: i.message,
          code: i.code,
        };
      }),
    );
  };

  /** Whether writing the reading back gives the core document's kept parts again. */
  const sameAfterRoundTrip = (reading: Reading<Doc, Keep>, core: Core, trip: RoundTrip<Core, Out>): boolean => {
    if (!spec.core) return false;
    try {
      const back = spec.core.safeParse(spec.toCore(reading.doc, reading.keep));
      return back.success && stableJson(trip.keeps(back.data)) === stableJson(trip.keeps(core));
    } catch {
      // A document the dialect cannot write (an Arrotech step naming no known tool) is not exact.
      return false;
    }
  };

  const read = (core: Core): View<Doc, Keep> => {
    const reading = spec.fromCore(core);
    const trip = spec.roundTrip;
    const named = reading.untranslated.length > 0;
    let exact: boolean;
    if (!trip) exact = !named;
    else exact = (trip.decidesAlone || !named) && sameAfterRoundTrip(reading, core, trip);
    const untranslated = exact ? [] : named ? reading.untranslated : [differsFrom(spec.noun)];
    return { ...reading, untranslated, exact };
  };

  const refusal = (view: View<Doc, Keep>): AppError =>
    new AppError(
      409,
      "NOT_EXPRESSIBLE",
      spec.refusal
        ? spec.refusal(view.untranslated)
        : `This ${spec.noun} uses features ${spec.title} cannot express (see x_native); edit it through /v1/automation/flows`,
    );

  return {
    spec,
    write,
    read,
    refusal,
    editable(core) {
      const view = read(core);
      if (!view.exact) throw refusal(view);
      return view;
    },
    native(view, core) {
      if (view.exact) return {};
      return spec.showsUntranslated ? { x_native: core, x_untranslated: view.untranslated } : { x_native: core };
    },
  };
}

/**
 * JSON with object keys sorted, so two documents built in a different key order compare equal. The engine's
 * `secret_configured: false` marker (added on store, meaning "no secret") is left out: it says nothing; so is
 * `token_configured`, which the store sets from the hashed URL token a write leaves behind (never part of the input).
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([k, x]) => !(k === "secret_configured" && x === false) && k !== "token_configured")
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Core flow features no dialect expresses: a flow using any of them is shown with `x_native` and refused on writes. */
export const NATIVE_ONLY_FIELDS = [
  "trigger_conditions",
  "schedules",
  "loops",
  "entity_schema",
  "max_executions",
  "retry_policy",
  "concurrency_limit",
  "system_flow",
  "protected",
] as const;

/** The native-only features a flow uses (of `fields`, by default all of them). */
export function nativeOnlyFields(
  flow: object,
  fields: readonly (typeof NATIVE_ONLY_FIELDS)[number][] = NATIVE_ONLY_FIELDS,
): string[] {
  const doc = flow as Record<string, unknown>;
  return fields.filter((k) => {
    const v = doc[k];
    return v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0);
  });
}
