import { describe, expect, it } from "vitest";
import { call } from "../helpers";

describe("smoke", () => {
  it("doc", async () => {
    const doc = await call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    console.log(JSON.stringify(doc.body.paths["/v1/automation/conditions:test"]).slice(0, 1500));
    console.log(JSON.stringify(doc.body.components.schemas.ConditionTestRequest));
    console.log(JSON.stringify(doc.body.components.schemas.ConditionTestInput).slice(0, 600));
    const r = await call("POST", "/v1/automation/conditions:test", { body: { condition: { field: "a", operator: "equals", value: 1 }, context: { entity: { a: 1 } } } });
    console.log(JSON.stringify(r.body));
    const r2 = await call("POST", "/v1/automation/conditions:test", { body: { condition: { statements: [{ operation: "nope" }] } } });
    console.log(JSON.stringify(r2.body));
  });
});
