import type { FieldOp, QueryNode } from "../engine/record-query";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import {
  stripKeyword,
  type EntitySearchClause,
  type EntitySearchFilter,
  type EntitySearchFilterValue,
} from "../schemas/entity-search";
import { resolveField, type FieldRef, type SystemField } from "../schemas/records";

/**
 * Translates the query AST and epilot's EntitySearchFilter into a parameterized SQL condition over the
 * `records` table, which the caller must alias `r`. Every value and every JSON path is a bound
 * parameter; the SQL text only ever contains the fixed fragments below. Field names are validated
 * against a safe pattern as well, so a name cannot reach the SQL text even by mistake.
 *
 * Matching model: an attribute "has" a value when the value at its path equals it, or, when the path
 * holds an array, when one element does (as in Elasticsearch). Numbers compare numerically, strings as
 * text, and a value never matches across types (the string "10" is not the number 10).
 */

export type SqlParam = string | number | null;
export interface SqlFragment {
  sql: string;
  params: SqlParam[];
}

/** The envelope fields that are plain text columns (`_tags` is a JSON array column, handled apart). */
const COLUMNS: Record<Exclude<SystemField, "_tags">, string> = {
  _id: "r.id",
  _schema: "r.schema",
  _title: "r.title",
  _org: "r.org_id",
  _created_at: "r.created_at",
  _updated_at: "r.updated_at",
};

const NUMERIC = "('integer','real')";
const CMP: Record<"gt" | "gte" | "lt" | "lte", string> = { gt: ">", gte: ">=", lt: "<", lte: "<=" };

/** Collects bound parameters and enforces the parameter budget (D1 allows 100 per statement). */
class Params {
  readonly list: SqlParam[] = [];
  bind(value: SqlParam): string {
    if (this.list.length >= LIMITS.MAX_QUERY_SQL_PARAMS) {
      throw new AppError(400, "QUERY_TOO_COMPLEX", "The query is too complex: use fewer terms or values");
    }
    this.list.push(value);
    return "?";
  }
}

/** A predicate over one scalar candidate: `v` is its SQL value, `t` its JSON type name. */
type Pred = (v: string, t: string, p: Params) => string;

const jsonPath = (path: string[]) => "$" + path.map((s) => `."${s}"`).join("");

/** ASCII-only lower-casing, matching SQLite's lower(). */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Escapes LIKE wildcards so a prefix is matched literally. */
const likePrefix = (s: string) => s.replace(/[\\%_]/g, (c) => "\\" + c) + "%";

/** True when some scalar of `field` satisfies every predicate (a missing field satisfies none). */
function anyScalar(field: FieldRef, preds: Pred[], p: Params): string {
  const all = (v: string, t: string) => preds.map((pred) => `(${pred(v, t, p)})`).join(" AND ");
  if (field.kind === "attribute") {
    // json_each at a scalar yields one row with a NULL key; at an array, one row per element (integer
    // keys); at an object, its members (text keys), which are not candidates.
    const path = p.bind(jsonPath(field.path));
    return `EXISTS (SELECT 1 FROM json_each(r.data, ${path}) AS je WHERE (je.key IS NULL OR typeof(je.key) = 'integer') AND ${all("je.value", "je.type")})`;
  }
  if (field.name === "_tags") return `EXISTS (SELECT 1 FROM json_each(r.tags) AS je WHERE ${all("je.value", "je.type")})`;
  return `COALESCE(${all(COLUMNS[field.name], "'text'")}, 0)`;
}

/** The field holds at least one non-null scalar at or below its path (Elasticsearch's `exists`). */
function exists(field: FieldRef, p: Params): string {
  if (field.kind === "attribute") {
    return `EXISTS (SELECT 1 FROM json_tree(r.data, ${p.bind(jsonPath(field.path))}) AS jt WHERE jt.type NOT IN ('null','array','object'))`;
  }
  if (field.name === "_tags") return "json_array_length(r.tags) > 0";
  return `COALESCE(${COLUMNS[field.name]} <> '', 0)`;
}

const eqText =
  (s: string): Pred =>
  (v, t, p) =>
    `${t} = 'text' AND ${v} = ${p.bind(s)}`;
const eqNumber =
  (n: number): Pred =>
  (v, t, p) =>
    `${t} IN ${NUMERIC} AND ${v} = ${p.bind(n)}`;
const eqBool =
  (b: boolean): Pred =>
  (_v, t) =>
    `${t} = '${b ? "true" : "false"}'`;
const isNull: Pred = (_v, t) => `${t} = 'null'`;
const cmp =
  (op: "gt" | "gte" | "lt" | "lte", bound: string | number): Pred =>
  (v, t, p) =>
    `${t} ${typeof bound === "number" ? `IN ${NUMERIC}` : "= 'text'"} AND ${v} ${CMP[op]} ${p.bind(bound)}`;
const prefix =
  (s: string): Pred =>
  (v, t, p) =>
    `${t} = 'text' AND ${v} LIKE ${p.bind(likePrefix(s))} ESCAPE '\\'`;
const anyOf =
  (preds: Pred[]): Pred =>
  (v, t, p) =>
    preds.map((pred) => `(${pred(v, t, p)})`).join(" OR ");

/** Unquoted literals in `q` may mean a number or a boolean as well as the text itself. */
const NUMBER_LITERAL = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
function literalPreds(raw: string, quoted: boolean): Pred[] {
  const preds = [eqText(raw)];
  if (!quoted && NUMBER_LITERAL.test(raw)) preds.push(eqNumber(Number(raw)));
  if (!quoted && (raw === "true" || raw === "false")) preds.push(eqBool(raw === "true"));
  return preds;
}

/** Dates are stored as ISO strings; a number bound on them is taken as epoch milliseconds. */
function boundFor(field: FieldRef, bound: string | number): string | number {
  const isDate = field.kind === "system" && (field.name === "_created_at" || field.name === "_updated_at");
  if (isDate && typeof bound === "number") {
    const d = new Date(bound);
    if (Number.isNaN(d.getTime())) throw new AppError(400, "INVALID_FILTER", `${bound} is not a valid date in milliseconds`);
    return d.toISOString();
  }
  // The text columns hold text, so a numeric bound on them is compared as text.
  return field.kind === "system" && typeof bound === "number" ? String(bound) : bound;
}

function fieldNode(node: Extract<QueryNode, { type: "field" }>, p: Params): string {
  const { field, value, quoted } = node;
  const op: FieldOp = node.op;
  switch (op) {
    case "exists":
      return exists(field, p);
    case "prefix":
      return anyScalar(field, [prefix(value)], p);
    case "eq":
      return anyScalar(field, [anyOf(literalPreds(value, quoted))], p);
    default: {
      const numeric = !quoted && NUMBER_LITERAL.test(value) && field.kind === "attribute";
      return anyScalar(field, [cmp(op, boundFor(field, numeric ? Number(value) : value))], p);
    }
  }
}

/** Full text: a case-insensitive substring of the title, a tag, or any scalar attribute value. */
function fullText(value: string, p: Params): string {
  const needle = asciiLower(value);
  return (
    `(COALESCE(instr(lower(r.title), ${p.bind(needle)}) > 0, 0)` +
    ` OR EXISTS (SELECT 1 FROM json_each(r.tags) AS jt WHERE instr(lower(jt.value), ${p.bind(needle)}) > 0)` +
    ` OR EXISTS (SELECT 1 FROM json_tree(r.data) AS jt WHERE jt.type IN ('text','integer','real') AND instr(lower(jt.atom), ${p.bind(needle)}) > 0))`
  );
}

function queryNode(node: QueryNode, p: Params): string {
  switch (node.type) {
    case "and":
      return `(${node.children.map((c) => queryNode(c, p)).join(" AND ")})`;
    case "or":
      return `(${node.children.map((c) => queryNode(c, p)).join(" OR ")})`;
    case "not":
      return `(NOT ${queryNode(node.child, p)})`;
    case "all":
      return "1";
    case "text":
      return fullText(node.value, p);
    case "field":
      return fieldNode(node, p);
  }
}

/** SQL condition for a parsed query string (null = every record). */
export function queryToSql(node: QueryNode | null): SqlFragment {
  const p = new Params();
  return { sql: node ? queryNode(node, p) : "1", params: p.list };
}

function filterField(name: string): FieldRef {
  const ref = resolveField(stripKeyword(name));
  if ("error" in ref) throw new AppError(400, "INVALID_FILTER", ref.error);
  return ref;
}

function valuePred(value: EntitySearchFilterValue): Pred {
  if (value === null) return isNull;
  if (typeof value === "number") return eqNumber(value);
  if (typeof value === "boolean") return eqBool(value);
  return eqText(value);
}

/** `term`/`terms` with null also match records where the field is absent, as a null is never indexed in ES. */
function valuesClause(name: string, values: EntitySearchFilterValue[], p: Params): string {
  const field = filterField(name);
  if (values.length === 0) return "0";
  const nonNull = values.filter((v) => v !== null);
  const parts: string[] = [];
  if (nonNull.length === 1) parts.push(anyScalar(field, [valuePred(nonNull[0])], p));
  if (nonNull.length > 1) {
    // Many values are bound as one JSON array, so a long list costs one parameter.
    const inList: Pred = (v, t, params) =>
      `EXISTS (SELECT 1 FROM json_each(${params.bind(JSON.stringify(nonNull))}) AS tv` +
      ` WHERE (tv.type = ${t} AND (tv.type IN ('true','false') OR tv.value = ${v}))` +
      ` OR (tv.type IN ${NUMERIC} AND ${t} IN ${NUMERIC} AND tv.value = ${v}))`;
    parts.push(anyScalar(field, [inList], p));
  }
  if (nonNull.length < values.length) parts.push(`(${anyScalar(field, [isNull], p)} OR NOT ${exists(field, p)})`);
  return parts.length === 1 ? parts[0] : `(${parts.join(" OR ")})`;
}

function clauseSql(clause: EntitySearchClause, p: Params): string {
  if (clause.term) {
    const [name, value] = Object.entries(clause.term)[0];
    return valuesClause(name, [value], p);
  }
  if (clause.terms) {
    const [name, values] = Object.entries(clause.terms)[0];
    return valuesClause(name, values, p);
  }
  if (clause.ids) {
    const ids = clause.ids.values ?? [];
    return ids.length === 0 ? "0" : `r.id IN (SELECT value FROM json_each(${p.bind(JSON.stringify(ids))}))`;
  }
  if (clause.range) {
    const [name, bounds] = Object.entries(clause.range)[0];
    const field = filterField(name);
    const preds = (["gt", "gte", "lt", "lte"] as const)
      .filter((op) => bounds[op] !== undefined)
      .map((op) => cmp(op, boundFor(field, bounds[op]!)));
    // All bounds apply to the same scalar, so [1, 10] is not "between 2 and 9".
    return preds.length === 0 ? "1" : anyScalar(field, preds, p);
  }
  if (clause.exists) return exists(filterField(clause.exists.field), p);
  if (clause.$and) return listSql(clause.$and, "AND", p);
  if (clause.$or) return listSql(clause.$or, "OR", p);
  if (clause.$not) return `(NOT ${listSql(clause.$not, "AND", p)})`;
  throw new AppError(400, "INVALID_FILTER", "An empty filter clause");
}

function listSql(list: EntitySearchClause[], joiner: "AND" | "OR", p: Params): string {
  if (list.length === 0) return joiner === "AND" ? "1" : "0";
  return `(${list.map((c) => clauseSql(c, p)).join(` ${joiner} `)})`;
}

/** SQL condition for an EntitySearchFilter (clauses are AND-ed; an empty list matches every record). */
export function filterToSql(filter: EntitySearchFilter): SqlFragment {
  const p = new Params();
  return { sql: listSql(filter, "AND", p), params: p.list };
}
