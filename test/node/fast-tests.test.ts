import { build, type BuildOptions } from "esbuild";
import { describe, expect, it } from "vitest";
import { FAST_TESTS } from "../support/fast-tests";

/*
 * `npm run test:fast` (test/support/fast-tests.ts) stays fast only while its files test pure modules: none of
 * them may reach a binding, the Worker's fetch or an object, which all come through `cloudflare:*` imports.
 * esbuild follows each file's imports (our modules; packages such as zod or liquidjs run anywhere) and expands
 * the globs, failing on one that matches nothing.
 */
const OPTIONS: BuildOptions = {
  bundle: true,
  write: false,
  outdir: "out",
  platform: "neutral",
  format: "esm",
  logLevel: "silent",
  packages: "external",
  external: ["cloudflare:*", "node:*"],
};

/** The files `entryPoints` expand to, with whether each reaches a `cloudflare:*` import. */
async function bindingsOf(entryPoints: string[]): Promise<Map<string, boolean>> {
  const { metafile } = await build({ ...OPTIONS, entryPoints, metafile: true });
  const out = new Map<string, boolean>();
  for (const o of Object.values(metafile.outputs))
    if (o.entryPoint)
      out.set(
        o.entryPoint,
        o.imports.some((i) => i.external && i.path.startsWith("cloudflare:")),
      );
  return out;
}

describe("the fast test set", () => {
  it("holds only tests that import no binding (cloudflare:*), directly or through what they import", async () => {
    const files = await bindingsOf(FAST_TESTS);
    expect(files.size).toBeGreaterThan(20);
    expect([...files].filter(([, bound]) => bound).map(([file]) => file)).toEqual([]);
  });

  it("would notice a test that reaches a binding, and a glob that matches nothing", async () => {
    const files = await bindingsOf(["test/engine/dry-run-parity.test.ts", "test/engine/dry-run.test.ts"]);
    expect(Object.fromEntries(files)).toEqual({
      "test/engine/dry-run-parity.test.ts": true,
      "test/engine/dry-run.test.ts": false,
    });
    await expect(bindingsOf(["test/engine/no-such-folder/*.test.ts"])).rejects.toThrow(/Could not resolve/);
  });
});
