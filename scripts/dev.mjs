#!/usr/bin/env node
// `npm run dev -- [wrangler dev args]`: applies the D1 migrations to the local database, then starts
// `wrangler dev`. If no ADMIN_API_KEY / ENCRYPTION_KEY is passed with --var, a local development
// value is supplied and printed, so a fresh clone has a working admin key at once.
import { spawn, spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const DEV_ADMIN_KEY = "dev-admin-key";
const DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktZG8tbm90LXVzZQ==";

const varNames = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--var" && args[i + 1]) varNames.push(args[i + 1].split(":")[0]);
  else if (args[i].startsWith("--var=")) varNames.push(args[i].slice(6).split(":")[0]);
}
const persistIndex = args.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
const persist =
  persistIndex < 0 ? [] : args[persistIndex].includes("=") ? [args[persistIndex]] : [args[persistIndex], args[persistIndex + 1]];

const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "automation", "--local", ...persist], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const extra = [];
if (!varNames.includes("ADMIN_API_KEY")) {
  extra.push("--var", `ADMIN_API_KEY:${DEV_ADMIN_KEY}`);
  console.log(`\nAdmin key for this local engine: ${DEV_ADMIN_KEY}  (curl -H "x-key: ${DEV_ADMIN_KEY}" ...)\n`);
}
if (!varNames.includes("ENCRYPTION_KEY")) extra.push("--var", `ENCRYPTION_KEY:${DEV_ENCRYPTION_KEY}`);

const child = spawn("wrangler", ["dev", ...extra, ...args], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
