// Benchmark of the expression layer: rendering a 1,000-field config and evaluating 10,000 conditions.
// Run by hand with Node 22:  npx node bench/expressions.mjs
// The TypeScript engine is bundled with esbuild into a temporary file first (no TS runtime is installed).
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "expr-bench-"));
const outfile = join(dir, "engine.mjs");
await build({
  stdin: {
    contents: `export * from ${JSON.stringify(join(root, "src/engine/templates/index.ts"))};
export * from ${JSON.stringify(join(root, "src/engine/conditions/index.ts"))};`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  mainFields: ["module", "main"],
  outfile,
  logLevel: "error",
});
const engine = await import(pathToFileURL(outfile).href);
rmSync(dir, { recursive: true, force: true });

const now = Date.UTC(2024, 0, 15, 10, 0, 0);
const record = {
  id: "rec_1",
  name: "John Smith",
  email: "John@Example.com",
  value: 50000,
  stage: "proposal",
  tags: ["vip", "b2b"],
};
for (let i = 0; i < 50; i++) record[`field_${i}`] = `value ${i}`;
const ctx = { record, previous: { stage: "lead" }, user: { id: "u1", email: "o@x.com" }, variables: { limit: 40000 }, now };

// 1,000 template strings spread over nested objects and arrays, of every flavour.
const flavours = [
  (i) => `{{ record.field_${i % 50} }}`,
  () => "Deal {{ record.name | uppercase }} is worth ${{ record.value }}",
  () => "{{ record.value }}",
  () => "{{ now | add_days: 3 | date_format: 'MMM D, YYYY' }}",
  () => "{% if record.value > variables.limit %}big{% else %}small{% endif %}",
  () => "{{ record.tags | join: ', ' }} / {{ previous.stage }} → {{ record.stage }}",
  (i) => `plain text ${i}`,
  () => "{{ user.email | lowercase }}",
];
const config = { sections: [] };
for (let s = 0; s < 10; s++) {
  const section = { name: `s${s}`, fields: {}, list: [] };
  for (let f = 0; f < 50; f++) section.fields[`f${f}`] = flavours[(s * 100 + f) % flavours.length](s * 100 + f);
  for (let f = 50; f < 100; f++) section.list.push({ v: flavours[(s * 100 + f) % flavours.length](s * 100 + f) });
  config.sections.push(section);
}

function time(label, runs, fn) {
  fn(); // warm-up (parses templates into the cache)
  const start = performance.now();
  for (let i = 0; i < runs; i++) fn();
  const ms = (performance.now() - start) / runs;
  return { label, runs, ms };
}

const results = [];
{
  const t0 = performance.now();
  const first = engine.renderValue(config, ctx);
  results.push({ label: "render 1,000-field config, cold (parse + render)", runs: 1, ms: performance.now() - t0 });
  if (first.substitutions.length !== 875) throw new Error(`unexpected substitutions: ${first.substitutions.length}`);
}
results.push(time("render 1,000-field config, warm (cached parse)", 50, () => engine.renderValue(config, ctx)));
results.push(time("validateTemplates on the same config", 50, () => engine.validateTemplates(config)));

// 10,000 conditions of every vocabulary.
const evalCtx = {
  entity: { _schema: "deal", ...record, email: [{ email: "a@x.com" }], created_at: "2024-01-15T10:30:00Z" },
  previous: { stage: "lead" },
  diff: { updated: { stage: "proposal" } },
  trigger: { operation: "updateEntity", activity: { type: "EntityUpdated" } },
  actions: { a1: { outputs: { count: 3 } } },
  now,
};
const statements = [
  { operation: "equals", values: ["proposal"], source: { attribute: "stage" } },
  { operation: "greater_than", values: ["40000"], source: { attribute: "value", attributeType: "number" } },
  { operation: "any_of", values: ["a@x.com"], source: { attribute: "email", attributeType: "email" } },
  { operation: "less_than", values: ["2024-02-01"], source: { attribute: "created_at", attributeType: "date" } },
  { operation: "contains", values: ["vip"], source: { attribute: "tags", attributeType: "tags" } },
  { operation: "is_not_empty", values: [], source: { attribute: "stage", attributeOperation: "updated" } },
];
const simple = [
  { field: "value", operator: "greater_than", value: 50000 },
  { field: "stage", operator: "changed_to", value: "proposal" },
  { field: "email", operator: "is_not_empty" },
];
const filter = {
  operation: {
    operation: ["updateEntity"],
    payload: { _schema: ["deal"], value: [{ numeric: [">", 1000] }] },
    diff: { updated: { stage: [{ exists: true }] } },
  },
  activity: { type: [{ prefix: "Entity" }] },
};
const event = {
  operation: "updateEntity",
  entity: evalCtx.entity,
  diff: evalCtx.diff,
  previous: evalCtx.previous,
  activity: { type: "EntityUpdated" },
};

results.push(
  time("10,000 ConditionStatements", 5, () => {
    for (let i = 0; i < 10_000; i++) engine.evaluateStatement(statements[i % statements.length], evalCtx);
  }),
);
results.push(
  time("10,000 Coherence conditions", 5, () => {
    for (let i = 0; i < 10_000; i++) engine.evaluateSimpleCondition(simple[i % simple.length], evalCtx);
  }),
);
results.push(
  time("10,000 filter_config matches (5 leaves each)", 5, () => {
    for (let i = 0; i < 10_000; i++) engine.matchFilterConfig(filter, event);
  }),
);
results.push(
  time("10,000 trigger conditions", 5, () => {
    for (let i = 0; i < 10_000; i++)
      engine.evaluateTriggerCondition(
        { source: "activity.type", comparison: "any_of", value: ["EntityUpdated"] },
        evalCtx.trigger,
      );
  }),
);

console.log(`Node ${process.version}`);
for (const r of results) console.log(`${r.label.padEnd(52)} ${r.ms.toFixed(2).padStart(9)} ms  (mean of ${r.runs})`);
