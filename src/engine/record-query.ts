import { LIMITS } from "../lib/limits";
import { resolveField, type FieldRef } from "../schemas/records";

/**
 * The record query language of `q` and `entities_query` (see docs/records.md):
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*          -- juxtaposition is AND
 *   unary   := ("NOT" | "-") unary | "(" or ")" | term
 *   term    := field ":" value | word | "quoted phrase"
 *   value   := [">" | ">=" | "<" | "<="] word | word "*" | "*" | "quoted value"
 *
 * Parsing is pure and bounded (length, term count, nesting); errors carry a 1-based position.
 */

export type FieldOp = "eq" | "gt" | "gte" | "lt" | "lte" | "prefix" | "exists";

export type QueryNode =
  | { type: "and"; children: QueryNode[] }
  | { type: "or"; children: QueryNode[] }
  | { type: "not"; child: QueryNode }
  /** `value` is the literal as written; `quoted` values are always text, unquoted ones may be numbers or booleans. */
  | { type: "field"; field: FieldRef; name: string; op: FieldOp; value: string; quoted: boolean; pos: number }
  /** A bare word or phrase: case-insensitive substring of the title, tags or any attribute value. */
  | { type: "text"; value: string; pos: number }
  | { type: "all" };

export class QueryError extends Error {
  /** 1-based character position of the problem in the query string. */
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`${reason} (at position ${position})`);
    this.name = "QueryError";
  }
}

/** One character of a word, remembering whether it was backslash-escaped (escaped `:` `*` are literal). */
interface Ch {
  c: string;
  esc: boolean;
}

type Token =
  | { kind: "lparen" | "rparen" | "and" | "or" | "not" | "eof"; pos: number }
  | { kind: "phrase"; pos: number; value: string }
  /** `quoted` is set for `field:"value"` (and `field:>"value"`); `starAfterQuote` for `field:"Jo"*`. */
  | { kind: "word"; pos: number; chars: Ch[]; quoted?: string; starAfterQuote?: boolean };

const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r";
const ENDS_WORD = new Set(["(", ")", '"']);
const OPERATOR_PREFIXES = ["", ">", ">=", "<", "<="];

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = input.length;

  const readPhrase = (): string => {
    const start = i;
    let out = "";
    i++; // opening quote
    while (i < n && input[i] !== '"') {
      if (input[i] === "\\" && i + 1 < n) i++;
      out += input[i++];
    }
    if (i >= n) throw new QueryError(start + 1, "Unterminated quoted string");
    i++; // closing quote
    return out;
  };

  while (i < n) {
    const c = input[i];
    if (isSpace(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c === "(" ? "lparen" : "rparen", pos: i + 1 });
      i++;
    } else if (c === '"') {
      const pos = i + 1;
      tokens.push({ kind: "phrase", pos, value: readPhrase() });
    } else if (c === "-" && i + 1 < n && !isSpace(input[i + 1]) && input[i + 1] !== ")") {
      tokens.push({ kind: "not", pos: i + 1 });
      i++;
    } else {
      const pos = i + 1;
      const chars: Ch[] = [];
      while (i < n && !isSpace(input[i]) && !ENDS_WORD.has(input[i])) {
        if (input[i] === "\\") {
          if (i + 1 >= n) throw new QueryError(i + 1, "A backslash must be followed by the character it escapes");
          chars.push({ c: input[i + 1], esc: true });
          i += 2;
        } else chars.push({ c: input[i++], esc: false });
      }
      const raw = chars.map((ch) => (ch.esc ? "\\" + ch.c : ch.c)).join("");
      if (chars.every((ch) => !ch.esc) && (raw === "AND" || raw === "OR" || raw === "NOT")) {
        tokens.push({ kind: raw === "AND" ? "and" : raw === "OR" ? "or" : "not", pos });
        continue;
      }
      const token: Token = { kind: "word", pos, chars };
      if (i < n && input[i] === '"') {
        const colon = chars.findIndex((ch) => ch.c === ":" && !ch.esc);
        const after = colon < 0 ? null : chars.slice(colon + 1);
        if (!after || after.some((ch) => ch.esc) || !OPERATOR_PREFIXES.includes(after.map((ch) => ch.c).join(""))) {
          throw new QueryError(i + 1, 'Unexpected quote: quote a whole value, as in field:"two words"');
        }
        token.quoted = readPhrase();
        if (i < n && input[i] === "*") {
          token.starAfterQuote = true;
          i++;
        }
        if (i < n && !isSpace(input[i]) && input[i] !== ")" && input[i] !== "(") {
          throw new QueryError(i + 1, "Expected a space after the quoted value");
        }
      }
      tokens.push(token);
    }
  }
  tokens.push({ kind: "eof", pos: n + 1 });
  return tokens;
}

const text = (chars: Ch[]) => chars.map((ch) => ch.c).join("");
const hasBareStar = (chars: Ch[]) => chars.some((ch) => ch.c === "*" && !ch.esc);

class Parser {
  private at = 0;
  private terms = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at];
  }

  private next(): Token {
    return this.tokens[this.at++];
  }

  parse(): QueryNode {
    const node = this.parseOr(0);
    const t = this.peek();
    if (t.kind === "rparen") throw new QueryError(t.pos, "Unmatched ')'");
    if (t.kind !== "eof") throw new QueryError(t.pos, "Unexpected input");
    return node;
  }

  private parseOr(depth: number): QueryNode {
    const children = [this.parseAnd(depth)];
    while (this.peek().kind === "or") {
      this.next();
      children.push(this.parseAnd(depth));
    }
    return children.length === 1 ? children[0] : { type: "or", children };
  }

  private startsUnary(t: Token): boolean {
    return t.kind === "word" || t.kind === "phrase" || t.kind === "lparen" || t.kind === "not";
  }

  private parseAnd(depth: number): QueryNode {
    const children = [this.parseUnary(depth)];
    for (;;) {
      const t = this.peek();
      if (t.kind === "and") {
        this.next();
        children.push(this.parseUnary(depth));
      } else if (this.startsUnary(t)) {
        children.push(this.parseUnary(depth));
      } else break;
    }
    return children.length === 1 ? children[0] : { type: "and", children };
  }

  private parseUnary(depth: number): QueryNode {
    const t = this.next();
    switch (t.kind) {
      case "not":
        this.checkDepth(depth + 1, t.pos);
        return { type: "not", child: this.parseUnary(depth + 1) };
      case "lparen": {
        this.checkDepth(depth + 1, t.pos);
        if (this.peek().kind === "rparen") throw new QueryError(this.peek().pos, "Empty parentheses");
        const inner = this.parseOr(depth + 1);
        if (this.peek().kind !== "rparen") throw new QueryError(t.pos, "Missing ')' for this '('");
        this.next();
        return inner;
      }
      case "phrase":
        this.countTerm(t.pos);
        return { type: "text", value: t.value, pos: t.pos };
      case "word":
        this.countTerm(t.pos);
        return wordToNode(t);
      case "rparen":
        throw new QueryError(t.pos, "Unexpected ')'");
      case "and":
      case "or":
        throw new QueryError(t.pos, `${t.kind.toUpperCase()} needs a term on both sides`);
      case "eof":
        throw new QueryError(t.pos, "Unexpected end of query: a term is missing");
    }
  }

  private checkDepth(depth: number, pos: number): void {
    if (depth > LIMITS.MAX_QUERY_DEPTH) throw new QueryError(pos, `Nesting deeper than ${LIMITS.MAX_QUERY_DEPTH} levels`);
  }

  private countTerm(pos: number): void {
    if (++this.terms > LIMITS.MAX_QUERY_TERMS) throw new QueryError(pos, `More than ${LIMITS.MAX_QUERY_TERMS} terms`);
  }
}

function wordToNode(t: Extract<Token, { kind: "word" }>): QueryNode {
  const colon = t.chars.findIndex((ch) => ch.c === ":" && !ch.esc);
  if (colon < 0) {
    // A bare word: `*` alone matches everything; a trailing `*` adds nothing to a substring match.
    let chars = t.chars;
    if (chars.length > 0 && chars[chars.length - 1].c === "*" && !chars[chars.length - 1].esc) chars = chars.slice(0, -1);
    if (hasBareStar(chars)) throw new QueryError(t.pos, "A * is only allowed at the end of a word");
    return chars.length === 0 ? { type: "all" } : { type: "text", value: text(chars), pos: t.pos };
  }
  const name = text(t.chars.slice(0, colon));
  if (!name) throw new QueryError(t.pos, "A field name is missing before ':'");
  const field = resolveField(name);
  if ("error" in field) throw new QueryError(t.pos, field.error);
  const valuePos = t.pos + colon + 1;
  let rest = t.chars.slice(colon + 1);

  let op: FieldOp = "eq";
  const prefix = rest.length > 1 && !rest[1].esc ? rest[0].c + rest[1].c : "";
  if (!rest[0]?.esc && (prefix === ">=" || prefix === "<=")) {
    op = prefix === ">=" ? "gte" : "lte";
    rest = rest.slice(2);
  } else if (rest.length > 0 && !rest[0].esc && (rest[0].c === ">" || rest[0].c === "<")) {
    op = rest[0].c === ">" ? "gt" : "lt";
    rest = rest.slice(1);
  }

  if (t.quoted !== undefined) {
    if (t.starAfterQuote) {
      if (op !== "eq") throw new QueryError(valuePos, "A prefix (*) cannot be combined with a comparison");
      return { type: "field", field, name, op: "prefix", value: t.quoted, quoted: true, pos: t.pos };
    }
    if (op !== "eq" && t.quoted === "") throw new QueryError(valuePos, "A comparison needs a value");
    return { type: "field", field, name, op, value: t.quoted, quoted: true, pos: t.pos };
  }
  if (rest.length === 0) throw new QueryError(valuePos, `Expected a value after '${name}:'`);
  if (op === "eq" && rest.length === 1 && rest[0].c === "*" && !rest[0].esc) {
    return { type: "field", field, name, op: "exists", value: "", quoted: false, pos: t.pos };
  }
  const last = rest[rest.length - 1];
  if (last.c === "*" && !last.esc) {
    if (op !== "eq") throw new QueryError(valuePos, "A prefix (*) cannot be combined with a comparison");
    rest = rest.slice(0, -1);
    op = "prefix";
  }
  if (hasBareStar(rest)) throw new QueryError(valuePos, "A * is only allowed at the end of a value");
  return { type: "field", field, name, op, value: text(rest), quoted: false, pos: t.pos };
}

/** Parses a query string; an empty (or blank) query gives null, meaning "every record". */
export function parseQuery(input: string): QueryNode | null {
  if (input.length > LIMITS.MAX_QUERY_LENGTH) {
    throw new QueryError(LIMITS.MAX_QUERY_LENGTH + 1, `Queries are limited to ${LIMITS.MAX_QUERY_LENGTH} characters`);
  }
  const tokens = tokenize(input);
  if (tokens.length === 1) return null;
  return new Parser(tokens).parse();
}
