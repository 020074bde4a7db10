#!/usr/bin/env node
// `npm run deploy -- [wrangler deploy args]`: deploys with the compatibility flags of wrangler.toml, making sure
// they include `global_fetch_strictly_public`, the platform's own refusal of private and loopback targets behind
// the engine's SSRF checks (src/lib/ssrf.ts). wrangler.toml sets it too (local workerd accepts it and still
// reaches the sinks on 127.0.0.1); this keeps a deploy safe if someone drops it from the file.
// (`--compatibility-flags` replaces the file's list, so the file's flags are passed along.)
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

export const PRODUCTION_FLAGS = ["global_fetch_strictly_public"];

/** The flags of `compatibility_flags = [...]` in a wrangler.toml text. */
export function configuredFlags(toml) {
  const line = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml);
  return line ? [...line[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]) : [];
}

export function deployArgs(toml, extra = []) {
  const flags = [...new Set([...configuredFlags(toml), ...PRODUCTION_FLAGS])];
  return ["deploy", ...flags.flatMap((f) => ["--compatibility-flags", f]), ...extra];
}

/** The project's wrangler.toml. */
export const readConfig = () => readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = deployArgs(readConfig(), process.argv.slice(2));
  console.log(`wrangler ${args.join(" ")}`);
  const child = spawn("wrangler", args, { stdio: "inherit" });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
