#!/usr/bin/env node
// Builds the Worker's static assets (Workers static assets, `[assets]` in wrangler.toml) into dist/assets:
//   /console/…  the browser console (console/: Preact + HTM, bundled by esbuild)
//   /docs/…     Swagger UI from the swagger-ui-dist package, loading /openapi.json: nothing from a CDN
//   _headers    the pages' Content-Security-Policy, which also keeps any third-party origin out
// Run by wrangler's `[build] command` (dev and deploy) and by vitest.config.ts before the tests; the output is
// not committed. Several builds may run at once (tests and `wrangler dev` side by side), so every file is
// written to a temporary name and renamed into place, and an unchanged file is not touched at all.
import { build } from "esbuild";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const ASSETS_DIR = join(ROOT, "dist", "assets");
const SWAGGER_DIR = join(ROOT, "node_modules", "swagger-ui-dist");

/** Files copied from swagger-ui-dist (the bundle carries everything; the standalone preset is not used). */
const SWAGGER_FILES = [
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-bundle.js.LICENSE.txt",
  "favicon-32x32.png",
  "LICENSE",
  "NOTICE",
];

const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Automation Engine API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/a11y.css" />
  </head>
  <body>
    <main id="swagger-ui" aria-label="API reference"></main>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

/*
 * Swagger UI's own stylesheet fails WCAG AA in places (axe: color-contrast on method badges, the version
 * stamp, the URL and the Authorize button; target-size on operation links). These overrides fix them.
 */
const DOCS_A11Y_CSS = `.swagger-ui .opblock .opblock-summary-method { color: #111; text-shadow: none; }
.swagger-ui .info .title small { background: #5c6370; }
.swagger-ui .info .title small.version-stamp { background: #4a7000; }
.swagger-ui .info .url { color: #1f5fa8; }
.swagger-ui .btn.authorize { color: #1a7f4f; border-color: #1a7f4f; }
.swagger-ui .btn.authorize svg { fill: #1a7f4f; }
.swagger-ui .opblock-summary-path a.nostyle { display: inline-block; min-height: 24px; line-height: 24px; }
`;

// The document is served by the Worker itself (same origin), so the page works without internet access.
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

/*
 * 'self' only: a reference to any other origin is refused by the browser, not just absent from our HTML.
 * Swagger UI sets inline styles, so its page allows them; the console needs none.
 */
const HEADERS = `/console/*
  Content-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
/console
  Content-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
/docs/*
  Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'
  X-Content-Type-Options: nosniff
/docs
  Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'
  X-Content-Type-Options: nosniff
`;

/** Every output file (path relative to the assets directory → contents). */
async function assetFiles({ minify }) {
  const files = new Map();
  const bundle = await build({
    entryPoints: [join(ROOT, "console", "main.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify,
    write: false,
    outfile: "app.js",
    legalComments: "none",
    logLevel: "silent",
  });
  files.set("console/app.js", bundle.outputFiles[0].contents);
  files.set("console/index.html", await readFile(join(ROOT, "console", "index.html")));
  files.set("console/styles.css", await readFile(join(ROOT, "console", "styles.css")));
  for (const name of SWAGGER_FILES) {
    const target = name === "LICENSE" || name === "NOTICE" ? `${name}.txt` : name;
    files.set(`docs/${target}`, await readFile(join(SWAGGER_DIR, name)));
  }
  files.set("docs/index.html", DOCS_HTML);
  files.set("docs/init.js", DOCS_INIT);
  files.set("docs/a11y.css", DOCS_A11Y_CSS);
  files.set("_headers", HEADERS);
  return files;
}

async function sameContents(path, data) {
  try {
    return Buffer.from(await readFile(path)).equals(Buffer.from(data));
  } catch {
    return false;
  }
}

async function listFiles(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** Builds the assets into `outDir`; returns the relative paths written. */
export async function buildAssets({ outDir = ASSETS_DIR, minify = true } = {}) {
  const files = await assetFiles({ minify });
  for (const [rel, data] of files) {
    const path = join(outDir, rel);
    if (await sameContents(path, data)) continue;
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  }
  // Files of an older build that this one no longer produces (temporary files of a concurrent build are left alone).
  for (const rel of await listFiles(outDir)) {
    if (!files.has(rel) && !rel.endsWith(".tmp")) await rm(join(outDir, rel), { force: true });
  }
  return [...files.keys()];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  try {
    const written = await buildAssets({ minify: !process.argv.includes("--no-minify") });
    console.log(`assets: ${written.length} files in ${relative(ROOT, ASSETS_DIR)} (${Date.now() - started} ms)`);
  } catch (err) {
    console.error("assets build failed:", err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
