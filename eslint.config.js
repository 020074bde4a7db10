import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { LAYERS, directionRule } from "./scripts/layers.mjs";

/*
 * Layers (docs/architecture.md, "Layers"): the table of scripts/layers.mjs says which layers each folder of src/
 * may import; the rule `layers/direction` resolves every relative import of a file under src/ and reports one
 * that goes against it. engine/ is also kept free of bindings: `cloudflare:*` modules, binding types and fetch.
 */
const ENGINE_PURE = LAYERS.engine.why;
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
  { ignores: ["node_modules/", "**/.wrangler/", "bench/out/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    plugins: { layers: { rules: { direction: directionRule } } },
    rules: { "layers/direction": "error" },
  },
  {
    // The pure core.
    files: ["src/engine/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", { patterns: [{ group: ["cloudflare:*"], message: ENGINE_PURE }] }],
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
