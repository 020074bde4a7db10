import js from "@eslint/js";
import tseslint from "typescript-eslint";

/*
 * Layers (docs/architecture.md, "Layers"): api|dialects|queues → services → engine/store, objects →
 * engine/store/actions, engine → schemas/lib; nothing but src/app.ts and src/index.ts imports api/ or dialects/.
 * An import against that direction fails the lint. Imports are matched on their relative specifier: from any
 * file under src/<layer>/, `(../)+<dir>` names the top-level directory src/<dir>. (schemas/actions/ is the one
 * subdirectory named like a top-level directory, and no rule for schemas/ restricts `actions`.)
 */
const ENTRY_ONLY =
  "only src/app.ts and src/index.ts mount the HTTP layers (api/, dialects/): move shared code to services/ or lib/";
const ENGINE_PURE = "engine/ is pure: no bindings, no store, no I/O; the caller passes data and effects in";

/** One no-restricted-imports pattern: the relative specifiers that reach any of `dirs` under src/. */
const reach = (dirs, message) => ({ regex: `^(\\.\\./)+(${dirs.join("|")})(/|\\.ts$|$)`, message });
const HTTP = reach(["api", "dialects"], ENTRY_ONLY);

/** The rule with these patterns; a later config for the same file replaces it, so each lists all of its own. */
const restrict = (...patterns) => ({ "@typescript-eslint/no-restricted-imports": ["error", { patterns }] });

/** Binding types are ambient (no import to catch): naming them in engine/ is refused too. */
const BINDING_TYPES = [
  "D1Database",
  "D1PreparedStatement",
  "D1Result",
  "DurableObjectState",
  "DurableObjectStorage",
  "DurableObjectNamespace",
  "DurableObjectStub",
  "Queue",
  "Fetcher",
];

export default tseslint.config(
  { ignores: ["node_modules/", ".wrangler/", "bench/out/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Every source file but the entry points: nothing imports the HTTP layers.
    files: ["src/**/*.ts"],
    ignores: ["src/app.ts", "src/index.ts"],
    rules: restrict(HTTP),
  },
  {
    // Each HTTP layer may import itself, not the other.
    files: ["src/api/**/*.ts"],
    rules: restrict(reach(["dialects"], ENTRY_ONLY)),
  },
  {
    // A dialect builds its routers with the shared HTTP plumbing (api/router.ts, api/context.ts), and nothing
    // else of api/: it calls services/ like api/ does, for reads too.
    files: ["src/dialects/**/*.ts"],
    rules: restrict(
      {
        regex: "^(\\.\\./)+api/(?!(router|context)(\\.ts)?$)",
        message: "a dialect uses api/router and api/context only: call services/ for the rest",
      },
      reach(["store"], "a dialect reads and writes through services/, never store/"),
    ),
  },
  {
    // store/ and schemas/ sit below the use cases.
    files: ["src/store/**/*.ts", "src/schemas/**/*.ts"],
    rules: restrict(HTTP, reach(["services"], "store/ and schemas/ are below services/: pass what they need in")),
  },
  {
    // The pure core.
    files: ["src/engine/**/*.ts"],
    rules: {
      ...restrict(HTTP, reach(["store", "services", "objects", "queues", "actions", "providers", "env"], ENGINE_PURE), {
        group: ["cloudflare:*"],
        message: ENGINE_PURE,
      }),
      "@typescript-eslint/no-restricted-types": [
        "error",
        { types: Object.fromEntries(BINDING_TYPES.map((t) => [t, { message: ENGINE_PURE }])) },
      ],
      "no-restricted-globals": ["error", { name: "fetch", message: ENGINE_PURE }],
    },
  },
  {
    // Tests parse arbitrary JSON responses; `any` there keeps assertions readable.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["scripts/**/*.mjs", "bench/**/*.mjs", "test/**/*.mjs"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        fetch: "readonly",
        WebSocket: "readonly",
        setTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        clearTimeout: "readonly",
        performance: "readonly",
        Buffer: "readonly",
        AbortController: "readonly",
      },
    },
  },
);
