import { type Liquid, type TagToken, Tokenizer, TypeGuards } from "liquidjs";

/**
 * Syntax liquidjs accepts silently but that is always a mistake: a `|` with no filter after it (`{{ x | }}`,
 * `{{ x | upcase | }}`), and a `:` or `,` with no filter argument after it (`{{ x | default: }}`). liquidjs drops
 * these without a word, so a typo would render as if the filter were not there; we report them as syntax errors.
 * Runs on a template that already parsed, so only this gap is left to check.
 */

// Neither type is exported by liquidjs' entry point.
type Options = Liquid["options"];
type LiquidTagToken = ReturnType<Tokenizer["readLiquidTagTokens"]>[number];

export interface LintIssue {
  message: string;
  line: number;
  col: number;
}

/** Tags whose arguments are not expressions: their text is never checked. */
const SKIPPED_TAGS = new Set(["#", "raw", "comment", "endcomment"]);

const isBlank = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";

/** 1-based line and column of an offset, counted as liquidjs counts them. */
function positionOf(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (source[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Scans `source[begin, end)` (one expression) outside string literals for a dangling `|`, `:` or `,`. */
function scanExpression(source: string, begin: number, end: number): number | null {
  for (let i = begin; i < end; i++) {
    const c = source[i];
    if (c === "'" || c === '"') {
      // liquidjs strings have backslash escapes and end at the same quote.
      for (i++; i < end && source[i] !== c; i++) if (source[i] === "\\") i++;
      continue;
    }
    if (c !== "|" && c !== ":" && c !== ",") continue;
    let j = i + 1;
    while (j < end && isBlank(source[j])) j++;
    // `||` and `| ,` already fail to parse; only "nothing follows" is accepted by liquidjs.
    if (j >= end || (c !== "|" && source[j] === "|")) return i;
  }
  return null;
}

const MESSAGES: Record<string, string> = {
  "|": 'expected a filter name after "|"',
  ":": 'expected a filter argument after ":"',
  ",": 'expected a filter argument after ","',
};

function argsRange(token: TagToken | LiquidTagToken): [number, number] {
  const end = token.contentRange[1];
  return [end - token.args.length, end];
}

/** The first dangling filter separator in a template that parsed, or null. */
export function danglingFilter(source: string, options: Options): LintIssue | null {
  const ranges: [number, number][] = [];
  let inComment = false;
  const visitTag = (token: TagToken | LiquidTagToken) => {
    if (inComment) {
      inComment = token.name !== "endcomment";
      return;
    }
    if (token.name === "comment") inComment = true;
    if (SKIPPED_TAGS.has(token.name)) return;
    // `{% liquid %}` holds one tag per line: check each line as its own tag.
    if (token.name === "liquid") {
      for (const line of token.tokenizer.readLiquidTagTokens(options)) visitTag(line);
      return;
    }
    ranges.push(argsRange(token));
  };
  for (const token of new Tokenizer(source, options.operators).readTopLevelTokens(options)) {
    if (TypeGuards.isTagToken(token)) visitTag(token);
    else if (TypeGuards.isOutputToken(token) && !inComment) ranges.push(token.contentRange);
  }
  for (const [begin, end] of ranges) {
    const at = scanExpression(source, begin, end);
    if (at !== null) return { message: MESSAGES[source[at]], ...positionOf(source, at) };
  }
  return null;
}
