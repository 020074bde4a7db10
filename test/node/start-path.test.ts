import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { importGraph } from "../../scripts/import-graph.mjs";

/*
 * Issue 23 item 4, read from the source: a run starts one way. startExecution (services/executions.ts) is
 * the only caller of the admission decision and of the creation it decides; only admission starts an
 * ExecutionObject; only services/object-clients.ts touches the objects' bindings; and the entry points
 * that start runs are the ones listed here, each calling startExecution (test/admission/one-path.test.ts
 * and entry-points.test.ts check the outcomes through each of them).
 */

const sources = importGraph()
  .files.filter((f) => !f.endsWith(".d.ts"))
  .map((file) => ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true));

interface Site {
  file: string;
  /** The enclosing function's name, or "" at the top level. */
  within: string;
}

/** Every call of a function named `name` (a plain identifier), with the function it sits in. */
function callsOf(name: string): Site[] {
  return sites((node) => ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name);
}

function sites(match: (node: ts.Node) => boolean): Site[] {
  const found: Site[] = [];
  for (const source of sources) {
    const visit = (node: ts.Node, within: string): void => {
      if (match(node)) found.push({ file: source.fileName, within });
      const name = ts.isFunctionDeclaration(node) && node.name ? node.name.text : within;
      ts.forEachChild(node, (child) => visit(child, name));
    };
    visit(source, "");
  }
  return found;
}

const filesOf = (list: Site[]) => [...new Set(list.map((s) => s.file))].sort();

describe("one start path", () => {
  it("admission decides and creates only inside startExecution", () => {
    const decided = [...callsOf("decideAdmission"), ...callsOf("createAdmitted")];
    expect(decided).toEqual([
      { file: "src/services/executions.ts", within: "startExecution" },
      { file: "src/services/executions.ts", within: "startExecution" },
    ]);
  });

  it("only admission starts an ExecutionObject (executionClient(...).start)", () => {
    const starts = sites(
      (node) =>
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === "start" &&
        ts.isCallExpression(node.expression.expression) &&
        ts.isIdentifier(node.expression.expression.expression) &&
        node.expression.expression.expression.text === "executionClient",
    );
    expect(starts).toEqual([{ file: "src/services/admission-start.ts", within: "startObject" }]);
  });

  it("only services/object-clients.ts reaches the objects' bindings", () => {
    const bindings = sites(
      (node) => ts.isPropertyAccessExpression(node) && ["EXECUTIONS", "FLOW_SCHEDULES", "FLOW_CONTROL"].includes(node.name.text),
    );
    expect(filesOf(bindings)).toEqual(["src/services/object-clients.ts"]);
  });

  it("the entry points that start runs all call startExecution", () => {
    expect(filesOf(callsOf("startExecution"))).toEqual([
      "src/actions/trigger-workflow.ts", // a flow's trigger-workflow action
      "src/api/executions.ts", // POST /v1/automation/executions
      "src/dialects/arrotech/workflows-runs.ts", // POST /v1/workflows/{id}/execute
      "src/queues/bulk.ts", // a bulk job's pages
      "src/queues/events.ts", // webhooks, record changes, cron fires, trigger-event, API submissions
      "src/services/agent-runs.ts", // an agent, by hand or by its schedule
      "src/services/flow-control.ts", // a debounce or batch group, when it is due
      "src/services/flow-tools.ts", // a flow tool (MCP, POST /v1/tools/call, an ai_agent's call)
      "src/services/runs.ts", // the manual trigger and single-action runs (API, Coherence, TrustPager)
    ]);
  });
});
