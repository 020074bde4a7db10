import { marked, type Token, type Tokens } from "marked";

/**
 * A rendered document template as layout blocks (headings, paragraphs, lists, rules, tables) with styled runs of
 * text, from Markdown (marked's lexer) or from the small HTML subset document templates allow. Pure: the PDF
 * writer (pdf.ts) lays the blocks out.
 */

export interface Run {
  text: string;
  bold?: boolean;
  italic?: boolean;
}

export type Block =
  | { kind: "heading"; level: 1 | 2 | 3; runs: Run[] }
  | { kind: "paragraph"; runs: Run[] }
  | { kind: "list"; ordered: boolean; items: Run[][] }
  | { kind: "rule" }
  | { kind: "table"; header: Run[][]; rows: Run[][][] };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Decodes the named entities above and numeric ones. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === "#") {
      const code = e[1].toLowerCase() === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

// ---- Markdown -------------------------------------------------------------------------------------

function inlineRuns(tokens: Token[] | undefined, style: { bold?: boolean; italic?: boolean } = {}): Run[] {
  const runs: Run[] = [];
  for (const t of tokens ?? []) {
    switch (t.type) {
      case "strong":
        runs.push(...inlineRuns((t as Tokens.Strong).tokens, { ...style, bold: true }));
        break;
      case "em":
        runs.push(...inlineRuns((t as Tokens.Em).tokens, { ...style, italic: true }));
        break;
      case "br":
        runs.push({ text: "\n", ...style });
        break;
      case "link":
      case "del":
        runs.push(...inlineRuns((t as Tokens.Link).tokens, style));
        break;
      case "text": {
        const text = t as Tokens.Text;
        if (text.tokens?.length) runs.push(...inlineRuns(text.tokens, style));
        else runs.push({ text: decodeEntities(text.text), ...style });
        break;
      }
      case "codespan":
      case "escape":
        runs.push({ text: decodeEntities((t as Tokens.Codespan).text), ...style });
        break;
      case "html":
        runs.push(...htmlInline((t as Tokens.HTML).text, style));
        break;
      default:
        if ("text" in t && typeof t.text === "string") runs.push({ text: decodeEntities(t.text), ...style });
    }
  }
  return runs;
}

function markdownTokenBlocks(tokens: Token[]): Block[] {
  const blocks: Block[] = [];
  for (const t of tokens) {
    switch (t.type) {
      case "heading": {
        const h = t as Tokens.Heading;
        blocks.push({ kind: "heading", level: Math.min(3, Math.max(1, h.depth)) as 1 | 2 | 3, runs: inlineRuns(h.tokens) });
        break;
      }
      case "paragraph":
        blocks.push({ kind: "paragraph", runs: inlineRuns((t as Tokens.Paragraph).tokens) });
        break;
      case "list": {
        const l = t as Tokens.List;
        blocks.push({
          kind: "list",
          ordered: l.ordered,
          items: l.items.map((item) =>
            item.tokens.flatMap((it) =>
              it.type === "text" || it.type === "paragraph" ? inlineRuns((it as Tokens.Text).tokens ?? [it]) : [],
            ),
          ),
        });
        break;
      }
      case "hr":
        blocks.push({ kind: "rule" });
        break;
      case "table": {
        const tb = t as Tokens.Table;
        blocks.push({
          kind: "table",
          header: tb.header.map((c) => inlineRuns(c.tokens)),
          rows: tb.rows.map((r) => r.map((c) => inlineRuns(c.tokens))),
        });
        break;
      }
      case "blockquote":
        blocks.push(...markdownTokenBlocks((t as Tokens.Blockquote).tokens));
        break;
      case "code":
        blocks.push({ kind: "paragraph", runs: [{ text: (t as Tokens.Code).text }] });
        break;
      case "html":
        blocks.push(...htmlBlocks((t as Tokens.HTML).text));
        break;
      default:
        break;
    }
  }
  return blocks;
}

export const markdownBlocks = (markdown: string): Block[] => markdownTokenBlocks(marked.lexer(markdown));

/** Markdown as an HTML fragment (for a document saved as `.html`). */
export const markdownHtml = (markdown: string): string => marked.parse(markdown, { async: false });

// ---- HTML subset ----------------------------------------------------------------------------------

const TAG = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(\/?)>|([^<]+)|(<)/g;
const SKIPPED = new Set(["script", "style", "head", "title"]);

/** Inline runs of an HTML fragment: text with b/strong/i/em/br, other tags ignored. */
function htmlInline(html: string, base: { bold?: boolean; italic?: boolean } = {}): Run[] {
  const blocks = htmlBlocks(html, base);
  return blocks.flatMap((b, i) => ("runs" in b ? [...(i > 0 ? [{ text: "\n" }] : []), ...b.runs] : []));
}

/**
 * Blocks of the HTML subset: h1-h6 (h4+ as h3), p/div, br, ul/ol/li, b/strong, i/em, hr, table/tr/th/td; other
 * tags are ignored (their text kept), script/style/head dropped. Whitespace collapses as in a browser.
 */
export function htmlBlocks(html: string, base: { bold?: boolean; italic?: boolean } = {}): Block[] {
  const blocks: Block[] = [];
  let runs: Run[] = [];
  let heading: 1 | 2 | 3 | null = null;
  let bold = 0;
  let italic = 0;
  let skip = 0;
  const lists: { ordered: boolean; items: Run[][] }[] = [];
  let table: { header: Run[][]; rows: Run[][][]; row: Run[][] | null; headerRow: boolean } | null = null;
  let cell: Run[] | null = null;

  const style = () => ({
    ...(bold > 0 || base.bold ? { bold: true } : {}),
    ...(italic > 0 || base.italic ? { italic: true } : {}),
  });
  const flush = () => {
    const text = runs.map((r) => r.text).join("");
    if (text.trim() !== "") {
      const trimmed = trimRuns(runs);
      if (lists.length) lists[lists.length - 1].items.push(trimmed);
      else if (heading) blocks.push({ kind: "heading", level: heading, runs: trimmed });
      else blocks.push({ kind: "paragraph", runs: trimmed });
    }
    runs = [];
  };
  const addText = (text: string) => {
    const target = cell ?? runs;
    target.push({ text: decodeEntities(text.replace(/\s+/g, " ")), ...style() });
  };

  for (const m of html.matchAll(TAG)) {
    const [, closing, rawName, , text, stray] = m;
    if (text !== undefined || stray !== undefined) {
      if (skip === 0) addText(text ?? stray!);
      continue;
    }
    if (!rawName) continue; // a comment
    const name = rawName.toLowerCase();
    const open = closing !== "/";
    if (SKIPPED.has(name)) {
      skip = Math.max(0, skip + (open ? 1 : -1));
      continue;
    }
    if (skip > 0) continue;
    switch (name) {
      case "b":
      case "strong":
        bold = Math.max(0, bold + (open ? 1 : -1));
        break;
      case "i":
      case "em":
        italic = Math.max(0, italic + (open ? 1 : -1));
        break;
      case "br":
        (cell ?? runs).push({ text: "\n", ...style() });
        break;
      case "p":
      case "div":
        if (!cell) flush();
        break;
      case "h1":
      case "h2":
      case "h3":
      case "h4":
      case "h5":
      case "h6":
        flush();
        heading = open ? (Math.min(3, Number(name[1])) as 1 | 2 | 3) : null;
        break;
      case "hr":
        flush();
        blocks.push({ kind: "rule" });
        break;
      case "ul":
      case "ol":
        flush();
        if (open) lists.push({ ordered: name === "ol", items: [] });
        else if (lists.length) blocks.push({ kind: "list", ...lists.pop()! });
        break;
      case "li":
        flush();
        break;
      case "table":
        flush();
        if (open) table = { header: [], rows: [], row: null, headerRow: false };
        else if (table) {
          blocks.push({ kind: "table", header: table.header, rows: table.rows });
          table = null;
        }
        break;
      case "tr":
        if (!table) break;
        if (open) table.row = [];
        else if (table.row) {
          if (table.headerRow && table.header.length === 0) table.header = table.row;
          else table.rows.push(table.row);
          table.row = null;
          table.headerRow = false;
        }
        break;
      case "th":
      case "td":
        if (!table?.row) break;
        if (open) {
          cell = [];
          if (name === "th") table.headerRow = true;
        } else if (cell) {
          table.row.push(trimRuns(cell));
          cell = null;
        }
        break;
      default:
        break;
    }
  }
  flush();
  while (lists.length) blocks.push({ kind: "list", ...lists.shift()! });
  if (table) blocks.push({ kind: "table", header: table.header, rows: table.rows });
  return blocks;
}

/** Trims leading and trailing spaces of a run list (collapsed HTML whitespace) and drops empty runs. */
function trimRuns(runs: Run[]): Run[] {
  const out = runs.map((r) => ({ ...r }));
  while (out.length && out[0].text.trimStart() === "") out.shift();
  while (out.length && out[out.length - 1].text.trimEnd() === "") out.pop();
  if (out.length) {
    out[0].text = out[0].text.replace(/^ +/, "");
    out[out.length - 1].text = out[out.length - 1].text.replace(/ +$/, "");
  }
  return out.filter((r) => r.text !== "");
}
