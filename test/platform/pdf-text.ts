/**
 * Reads the text a PDF written by src/engine/documents/pdf.ts shows, inside workerd: every content stream is
 * inflated (FlateDecode) and its text-showing operators (`<hex> Tj`, `(literal) Tj`) decoded as WinAnsi/Latin-1.
 * Enough to check the rendered values are real text in the file (pdftotext reads them the same way).
 */

const latin1 = (bytes: Uint8Array) => {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return out;
};

/** WinAnsi codes that differ from Latin-1 (the ones documents use). */
const WIN_ANSI: Record<number, string> = {
  0x80: "€",
  0x91: "‘",
  0x92: "’",
  0x93: "“",
  0x94: "”",
  0x95: "•",
  0x96: "–",
  0x97: "—",
};

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The raw bytes of every `stream … endstream` whose dictionary names FlateDecode, inflated. */
async function contentStreams(pdf: Uint8Array): Promise<string[]> {
  const text = latin1(pdf);
  const out: string[] = [];
  const re = /<<([^]*?)>>\s*stream\r?\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length;
    let end = text.indexOf("endstream", start);
    // The end-of-line before `endstream` is not part of the data (workerd's inflater refuses trailing bytes).
    if (text[end - 1] === "\n") end--;
    if (text[end - 1] === "\r") end--;
    const raw = pdf.subarray(start, end);
    if (/FlateDecode/.test(m[1])) {
      try {
        out.push(latin1(await inflate(raw)));
      } catch {
        /* not a content stream we can read (e.g. a font program) */
      }
    } else out.push(latin1(raw));
  }
  return out;
}

/** The text lines a PDF shows, one entry per text-showing operator, in drawing order. */
export async function pdfTextRuns(pdf: Uint8Array): Promise<string[]> {
  const runs: string[] = [];
  for (const s of await contentStreams(pdf)) {
    for (const m of s.matchAll(/<([0-9A-Fa-f]*)>\s*Tj|\(((?:\\.|[^\\)])*)\)\s*Tj/g)) {
      if (m[1] !== undefined) {
        const hex = m[1];
        let str = "";
        for (let i = 0; i < hex.length; i += 2) {
          const code = parseInt(hex.slice(i, i + 2), 16);
          str += WIN_ANSI[code] ?? String.fromCharCode(code);
        }
        runs.push(str);
      } else runs.push(m[2].replace(/\\(.)/g, "$1"));
    }
  }
  return runs;
}

/** The number of pages (`/Type /Page` objects, also inside compressed object streams). */
export async function pdfPageCount(pdf: Uint8Array): Promise<number> {
  const count = (s: string) => (s.match(/\/Type\s*\/Page(?!s)/g) ?? []).length;
  return [latin1(pdf), ...(await contentStreams(pdf))].reduce((n, s) => n + count(s), 0);
}
