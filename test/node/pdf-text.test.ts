import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { markdownBlocks } from "../../src/engine/documents/blocks";
import { renderPdf } from "../../src/engine/documents/pdf";

/**
 * Issue 28 item 4: the PDF `create-document` writes holds its rendered values as text that `pdftotext` (poppler)
 * extracts. test/platform/documents.test.ts checks the same inside workerd with a small decoder; this runs the
 * real tool. CI installs poppler-utils (.ci/run); a machine without it skips here and says so.
 */
/** Runs a poppler tool; a failure to run it fails the test with the tool's own message. */
function run(tool: string, args: string[]): string {
  const res = spawnSync(tool, args, { encoding: "utf8" });
  if (res.error || res.status !== 0) throw new Error(`${tool} ${args.join(" ")}: ${res.error?.message ?? res.stderr}`);
  return res.stdout;
}

const hasPdftotext = !spawnSync("pdftotext", ["-v"], { encoding: "utf8" }).error;

describe("create-document's PDF read by pdftotext", () => {
  it.skipIf(!hasPdftotext && !process.env.CI)("extracts the rendered headings, paragraphs, lists and tables", async () => {
    const markdown = [
      "# Angebot für Ada Lovelace",
      "",
      "Sehr geehrte Frau **Lovelace**, Ihr Angebot über 12.500,00 € für *Solaranlage Süd*.",
      "",
      "- Module: 24",
      "- Speicher: 10 kWh",
      "",
      "| Posten | Betrag |",
      "| ------ | ------ |",
      "| Montage | 1.200 € |",
    ].join("\n");
    const bytes = await renderPdf(markdownBlocks(markdown), { title: "Angebot", maxPages: 5, createdAt: new Date(0) });
    const dir = mkdtempSync(join(tmpdir(), "pdf-text-"));
    try {
      const file = join(dir, "offer.pdf");
      writeFileSync(file, bytes);
      const text = run("pdftotext", ["-layout", file, "-"]);
      const info = run("pdfinfo", [file]);
      for (const expected of [
        "Angebot für Ada Lovelace",
        "Lovelace",
        "12.500,00 €",
        "Solaranlage Süd",
        "Module: 24",
        "Speicher: 10 kWh",
        "Montage",
        "1.200 €",
      ]) {
        expect(text).toContain(expected);
      }
      expect(info).toMatch(/Title:\s+Angebot/);
      expect(info).toMatch(/Pages:\s+1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
