import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from "@pdfme/pdf-lib";
import type { Block, Run } from "./blocks";

/**
 * Lays document blocks out on A4 pages with the standard PDF fonts (Helvetica and its bold and oblique faces)
 * and writes a real PDF with pdf-lib (the maintained @pdfme fork): words wrap at the margins, pages break when
 * full, tables get equal columns. The standard fonts encode WinAnsi (Latin-1 plus €, dashes, quotes): other
 * characters print as "?". The text is real text (extractable with pdftotext), not drawn outlines.
 */

export class DocumentTooLong extends Error {
  constructor(readonly maxPages: number) {
    super(`the document needs more than ${maxPages} pages`);
    this.name = "DocumentTooLong";
  }
}

const PAGE = { width: 595.28, height: 841.89 }; // A4 in points
const MARGIN = 56;
const BODY = 11;
const HEADING = { 1: 20, 2: 16, 3: 13 } as const;
const LEADING = 1.4;

interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
  italic: PDFFont;
  boldItalic: PDFFont;
}

/** A word (or space) of one style, measured. */
interface Piece {
  text: string;
  font: PDFFont;
  width: number;
  space: boolean;
  newline: boolean;
}

class Layout {
  page!: PDFPage;
  y = 0;
  pages = 0;
  constructor(
    readonly doc: PDFDocument,
    readonly fonts: Fonts,
    readonly maxPages: number,
  ) {
    this.newPage();
  }

  newPage(): void {
    if (this.pages >= this.maxPages) throw new DocumentTooLong(this.maxPages);
    this.page = this.doc.addPage([PAGE.width, PAGE.height]);
    this.pages++;
    this.y = PAGE.height - MARGIN;
  }

  /** Room for `height` more points on this page, else a new page. */
  need(height: number): void {
    if (this.y - height < MARGIN) this.newPage();
  }

  fontOf(run: Run, boldAll = false): PDFFont {
    const bold = boldAll || run.bold;
    return bold && run.italic
      ? this.fonts.boldItalic
      : bold
        ? this.fonts.bold
        : run.italic
          ? this.fonts.italic
          : this.fonts.regular;
  }

  private readonly charsets = new Map<PDFFont, Set<number>>();

  /** Replaces characters the font cannot encode. */
  printable(font: PDFFont, text: string): string {
    let set = this.charsets.get(font);
    if (!set) this.charsets.set(font, (set = new Set(font.getCharacterSet())));
    let out = "";
    for (const ch of text) out += set.has(ch.codePointAt(0)!) ? ch : ch === "\t" ? " " : "?";
    return out;
  }

  pieces(runs: Run[], size: number, boldAll = false): Piece[] {
    const out: Piece[] = [];
    for (const run of runs) {
      const font = this.fontOf(run, boldAll);
      for (const part of run.text.split(/(\n| +)/)) {
        if (part === "") continue;
        if (part === "\n") {
          out.push({ text: "", font, width: 0, space: false, newline: true });
          continue;
        }
        const space = part.trim() === "";
        const text = space ? " " : this.printable(font, part);
        out.push({ text, font, width: font.widthOfTextAtSize(text, size), space, newline: false });
      }
    }
    return out;
  }

  /** Breaks pieces into lines of at most `width` points (a word longer than a line is cut by characters). */
  lines(pieces: Piece[], width: number, size: number): Piece[][] {
    const lines: Piece[][] = [];
    let line: Piece[] = [];
    let used = 0;
    const push = () => {
      while (line.length && line[line.length - 1].space) line.pop();
      lines.push(line);
      line = [];
      used = 0;
    };
    for (const p of pieces) {
      if (p.newline) {
        push();
        continue;
      }
      if (p.space && line.length === 0) continue;
      if (used + p.width <= width || line.length === 0) {
        if (p.width > width && !p.space) {
          // A word wider than the line: split it by characters.
          let chunk = "";
          for (const ch of p.text) {
            const next = chunk + ch;
            if (p.font.widthOfTextAtSize(next, size) > width - used && chunk) {
              line.push({ ...p, text: chunk, width: p.font.widthOfTextAtSize(chunk, size) });
              push();
              chunk = ch;
            } else chunk = next;
          }
          const w = p.font.widthOfTextAtSize(chunk, size);
          line.push({ ...p, text: chunk, width: w });
          used += w;
        } else {
          line.push(p);
          used += p.width;
        }
      } else {
        push();
        if (!p.space) {
          line.push(p);
          used = p.width;
        }
      }
    }
    if (line.length) push();
    return lines;
  }

  /** Draws text runs wrapped within [x, x + width] from the current y down, breaking pages as needed. */
  text(runs: Run[], size: number, x: number, width: number, opts: { boldAll?: boolean; prefix?: string } = {}): void {
    const lineHeight = size * LEADING;
    const lines = this.lines(this.pieces(runs, size, opts.boldAll), width, size);
    if (lines.length === 0) lines.push([]);
    lines.forEach((line, i) => {
      this.need(lineHeight);
      const baseline = this.y - size;
      if (i === 0 && opts.prefix) {
        this.page.drawText(opts.prefix, { x: x - 14, y: baseline, size, font: this.fonts.regular });
      }
      let cx = x;
      for (const p of line) {
        if (!p.space) this.page.drawText(p.text, { x: cx, y: baseline, size, font: p.font, color: rgb(0, 0, 0) });
        cx += p.width;
      }
      this.y -= lineHeight;
    });
  }

  /** A table: equal columns, header bold, rules between rows; a row never splits across pages. */
  table(header: Run[][], rows: Run[][][]): void {
    const cols = Math.max(header.length, ...rows.map((r) => r.length), 1);
    const width = PAGE.width - 2 * MARGIN;
    const colWidth = width / cols;
    const pad = 4;
    const size = BODY - 1;
    const lineHeight = size * LEADING;
    const all = header.length
      ? [{ cells: header, bold: true }, ...rows.map((r) => ({ cells: r, bold: false }))]
      : rows.map((r) => ({ cells: r, bold: false }));
    for (const row of all) {
      const wrapped = Array.from({ length: cols }, (_, c) =>
        this.lines(this.pieces(row.cells[c] ?? [], size, row.bold), colWidth - 2 * pad, size),
      );
      const height = Math.max(1, ...wrapped.map((l) => l.length)) * lineHeight + 2 * pad;
      this.need(height);
      const top = this.y;
      wrapped.forEach((lines, c) => {
        lines.forEach((line, i) => {
          let cx = MARGIN + c * colWidth + pad;
          for (const p of line) {
            if (!p.space) this.page.drawText(p.text, { x: cx, y: top - pad - size - i * lineHeight, size, font: p.font });
            cx += p.width;
          }
        });
      });
      this.y -= height;
      this.page.drawLine({
        start: { x: MARGIN, y: this.y },
        end: { x: MARGIN + width, y: this.y },
        thickness: 0.5,
        color: rgb(0.6, 0.6, 0.6),
      });
    }
    this.y -= BODY * 0.6;
  }
}

/** The PDF of `blocks` (metadata title `title`), at most `maxPages` pages (DocumentTooLong beyond). */
export async function renderPdf(
  blocks: Block[],
  opts: { title: string; maxPages: number; createdAt: Date },
): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(opts.title);
  doc.setProducer("automation-engine");
  doc.setCreator("automation-engine create-document");
  doc.setCreationDate(opts.createdAt);
  doc.setModificationDate(opts.createdAt);
  const fonts: Fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
    italic: await doc.embedFont(StandardFonts.HelveticaOblique),
    boldItalic: await doc.embedFont(StandardFonts.HelveticaBoldOblique),
  };
  const layout = new Layout(doc, fonts, opts.maxPages);
  const width = PAGE.width - 2 * MARGIN;
  for (const block of blocks) {
    switch (block.kind) {
      case "heading": {
        const size = HEADING[block.level];
        layout.need(size * LEADING * 2);
        layout.y -= size * 0.3;
        layout.text(block.runs, size, MARGIN, width, { boldAll: true });
        layout.y -= size * 0.2;
        break;
      }
      case "paragraph":
        layout.text(block.runs, BODY, MARGIN, width);
        layout.y -= BODY * 0.6;
        break;
      case "list":
        block.items.forEach((item, i) => {
          layout.text(item, BODY, MARGIN + 18, width - 18, { prefix: block.ordered ? `${i + 1}.` : "•" });
        });
        layout.y -= BODY * 0.6;
        break;
      case "rule":
        layout.need(BODY);
        layout.y -= BODY * 0.5;
        layout.page.drawLine({
          start: { x: MARGIN, y: layout.y },
          end: { x: MARGIN + width, y: layout.y },
          thickness: 0.75,
          color: rgb(0.4, 0.4, 0.4),
        });
        layout.y -= BODY * 0.5;
        break;
      case "table":
        layout.table(block.header, block.rows);
        break;
    }
  }
  return doc.save();
}
