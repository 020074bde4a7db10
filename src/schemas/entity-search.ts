import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { exceedsDepth, resolveField } from "./records";

/**
 * epilot's EntitySearchFilter: a list of simplified Elasticsearch clauses (AND by default), each with
 * exactly one of term, terms, ids, range, exists, $and, $or, $not. Translated to SQL by store/record-sql.
 */

export type EntitySearchFilterValue = string | number | boolean | null;
export interface RangeBounds {
  gt?: string | number;
  gte?: string | number;
  lt?: string | number;
  lte?: string | number;
}
export interface EntitySearchClause {
  term?: Record<string, EntitySearchFilterValue>;
  terms?: Record<string, EntitySearchFilterValue[]>;
  ids?: { values?: string[] };
  range?: Record<string, RangeBounds>;
  exists?: { field: string };
  $and?: EntitySearchClause[];
  $or?: EntitySearchClause[];
  $not?: EntitySearchClause[];
}
export type EntitySearchFilter = EntitySearchClause[];

const CLAUSE_KEYS = ["term", "terms", "ids", "range", "exists", "$and", "$or", "$not"] as const;
const FIELD_NAME = z.string().min(1).max(500);

export const EntitySearchFilterValueSchema = z
  .union([z.string().max(1000), z.number(), z.boolean(), z.null()])
  .openapi("EntitySearchFilterValue");

const oneField = <T extends z.ZodType>(value: T) =>
  z.record(FIELD_NAME, value).refine((o) => Object.keys(o).length === 1, "Name exactly one field");

const Bound = z.union([z.string().max(1000), z.number()]);
const RangeBoundsSchema = z
  .object({ gt: Bound.optional(), gte: Bound.optional(), lt: Bound.optional(), lte: Bound.optional() })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), "Give at least one of gt, gte, lt, lte");

/** Field names as ES users write them: a trailing `.keyword` (the exact-match sub-field) is the field itself. */
export const stripKeyword = (field: string): string => (field.endsWith(".keyword") ? field.slice(0, -".keyword".length) : field);

const nested = (): z.ZodType<EntitySearchClause[]> =>
  z.array(EntitySearchClauseSchema).min(1).max(LIMITS.MAX_FILTER_CLAUSES) as z.ZodType<EntitySearchClause[]>;

export const EntitySearchClauseSchema: z.ZodType<EntitySearchClause> = z
  .lazy(() =>
    z
      .object({
        term: oneField(EntitySearchFilterValueSchema).optional(),
        terms: oneField(z.array(EntitySearchFilterValueSchema).max(LIMITS.MAX_FILTER_VALUES)).optional(),
        ids: z
          .object({ values: z.array(z.string().max(200)).max(LIMITS.MAX_FILTER_VALUES).optional() })
          .strict()
          .optional(),
        range: oneField(RangeBoundsSchema).optional(),
        exists: z.object({ field: FIELD_NAME }).strict().optional(),
        $and: nested().optional(),
        $or: nested().optional(),
        $not: nested().optional(),
      })
      .strict()
      .refine((c) => CLAUSE_KEYS.filter((k) => c[k] !== undefined).length === 1, {
        message: `Each clause has exactly one of ${CLAUSE_KEYS.join(", ")}`,
      }),
  )
  .openapi("EntitySearchClause") as z.ZodType<EntitySearchClause>;

/** Walks the clause tree: field names must be valid, nesting and clause count bounded. */
function checkFilter(filter: EntitySearchFilter, ctx: z.RefinementCtx): void {
  let clauses = 0;
  const walk = (list: EntitySearchClause[], depth: number, path: (string | number)[]) => {
    if (depth > LIMITS.MAX_QUERY_DEPTH) {
      ctx.addIssue({ code: "custom", path, message: `Filters may nest at most ${LIMITS.MAX_QUERY_DEPTH} levels` });
      return;
    }
    list.forEach((clause, i) => {
      clauses++;
      const at = [...path, i];
      const fields = [
        ...Object.keys(clause.term ?? {}).map((f) => ({ f, p: [...at, "term", f] })),
        ...Object.keys(clause.terms ?? {}).map((f) => ({ f, p: [...at, "terms", f] })),
        ...Object.keys(clause.range ?? {}).map((f) => ({ f, p: [...at, "range", f] })),
        ...(clause.exists ? [{ f: clause.exists.field, p: [...at, "exists", "field"] }] : []),
      ];
      for (const { f, p } of fields) {
        const ref = resolveField(stripKeyword(f));
        if ("error" in ref) ctx.addIssue({ code: "custom", path: p, message: ref.error });
      }
      for (const key of ["$and", "$or", "$not"] as const) {
        const sub = clause[key];
        if (sub) walk(sub, depth + 1, [...at, key]);
      }
    });
  };
  walk(filter, 1, []);
  if (clauses > LIMITS.MAX_FILTER_CLAUSES) {
    ctx.addIssue({ code: "custom", path: [], message: `A filter may have at most ${LIMITS.MAX_FILTER_CLAUSES} clauses in all` });
  }
}

const FilterList = z.array(EntitySearchClauseSchema).min(1).max(LIMITS.MAX_FILTER_CLAUSES).superRefine(checkFilter);

/**
 * The filter as a request field. A cheap iterative depth check runs first, so a hostile, deeply nested
 * body is refused before the recursive schema walks it.
 */
export const EntitySearchFilterSchema = z
  .preprocess((value, ctx) => {
    if (exceedsDepth(value, 2 * LIMITS.MAX_QUERY_DEPTH + 4)) {
      ctx.addIssue({ code: "custom", message: `Filters may nest at most ${LIMITS.MAX_QUERY_DEPTH} levels`, input: value });
    }
    return value;
  }, FilterList)
  .openapi("EntitySearchFilter", {
    description:
      "Simplified Elasticsearch clauses, AND-ed: term, terms, ids, range (gt/gte/lt/lte), exists, and nested $and/$or/$not.",
    example: [{ term: { _schema: "contact" } }, { terms: { status: ["active"] } }],
  });
