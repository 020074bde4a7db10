import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module script without type declarations
import { configuredFlags, deployArgs, readConfig } from "../../scripts/deploy.mjs";

describe("npm run deploy", () => {
  it("deploys with wrangler.toml's compatibility flags plus global_fetch_strictly_public", () => {
    const toml: string = readConfig();
    const own: string[] = configuredFlags(toml);
    expect(own).toContain("nodejs_compat");
    const args: string[] = deployArgs(toml, ["--dry-run"]);
    const flags = args.flatMap((a, i) => (args[i - 1] === "--compatibility-flags" ? [a] : []));
    expect(flags.sort()).toEqual([...new Set([...own, "global_fetch_strictly_public"])].sort());
    expect(args[0]).toBe("deploy");
    expect(args.at(-1)).toBe("--dry-run");
  });

  it("reads the flags of a config without any, and does not repeat one already there", () => {
    expect(configuredFlags('name = "x"')).toEqual([]);
    const args: string[] = deployArgs('compatibility_flags = ["global_fetch_strictly_public", "nodejs_compat"]');
    expect(args.filter((a) => a === "global_fetch_strictly_public")).toHaveLength(1);
  });
});
