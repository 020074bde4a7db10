// Issue 27, by hand: a flow with a loop under `wrangler dev` — its rerun preview, the rerun, and the ledger after
// (docs/reruns.md). Run from the project root: npx node bench/rerun-walk.mjs. Starts its own engine and sink, stops both.
import { createServer } from "node:http";
import { api, startEngine } from "./lib.mjs";
const seen = new Map();
const server = createServer((req, res) => {
  let b = "";
  req.on("data", (c) => (b += c));
  req.on("end", () => {
    const n = (seen.get(req.url) ?? 0) + 1;
    seen.set(req.url, n);
    console.error(`sink ${req.method} ${req.url} #${n} key=${req.headers["idempotency-key"] ?? ""}`);
    if (req.url === "/push/b" && n === 1) {
      res.writeHead(500, { "content-type": "application/json" });
      return res.end('{"error":"down"}');
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(req.url === "/list" ? '{"items":["a","b","c"]}' : '{"ok":true}');
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const sink = `http://127.0.0.1:${server.address().port}`;
const eng = await startEngine(8700 + Math.floor(Math.random() * 90));
const B = eng.base;
const wait = async (id, until) => {
  for (let i = 0; i < 120; i++) {
    const r = await api(B, "GET", `/v1/automation/executions/${id}`);
    if (until(r.body)) return r.body;
    await new Promise((r) => setTimeout(r, 250));
  }
  const r = await api(B, "GET", `/v1/automation/executions/${id}`);
  throw new Error("timeout " + JSON.stringify(r.body).slice(0, 2500));
};
try {
  const flow = await api(B, "POST", "/v1/automation/flows", {
    flow_name: "fan out",
    triggers: [{ type: "manual" }],
    retry_policy: { max_attempts: 1 },
    loops: [{ id: "items", source_path: "actions.list.outputs.body.items" }],
    actions: [
      { id: "list", name: "Fetch items", type: "call_webhook", config: { url: `${sink}/list`, method: "GET" } },
      {
        id: "each",
        name: "Push item",
        type: "call_webhook",
        loop_id: "items",
        config: { url: `${sink}/push/{{ loop.item }}`, body: { item: "{{ loop.item }}" } },
      },
      { id: "after", name: "Report", type: "call_webhook", config: { url: `${sink}/report` } },
    ],
  });
  if (flow.status !== 201) throw new Error(JSON.stringify(flow.body));
  console.log("plan on the flow:", JSON.stringify(flow.body.plan));
  const st = await api(B, "POST", "/v1/automation/executions", { flow_id: flow.body.id, entity_id: "order-1" });
  console.log("start", st.status, JSON.stringify(st.body).slice(0, 400));
  const id = st.body.id ?? st.body.execution_id;
  const first = await wait(id, (e) => ["success", "failed"].includes(e.execution_status));
  console.log("first run:", first.execution_status);
  const before = await api(B, "GET", `/v1/automation/executions/${id}/effects`);
  console.log("LEDGER BEFORE", JSON.stringify(before.body, null, 1));
  const preview = await api(B, "POST", `/v1/automation/executions/${id}/each/retrigger:preview`, {});
  console.log("PREVIEW", preview.status, JSON.stringify(preview.body, null, 1));
  const rr = await api(B, "POST", `/v1/automation/executions/${id}/each/retrigger`, {});
  console.log("RETRIGGER", rr.status);
  const second = await wait(
    id,
    (e) =>
      e.execution_status === "success" || (e.execution_status === "failed" && e.actions?.[2]?.execution_status !== "pending"),
  );
  console.log("after rerun:", second.execution_status);
  const after = await api(B, "GET", `/v1/automation/executions/${id}/effects`);
  console.log("LEDGER AFTER", JSON.stringify(after.body, null, 1));
} finally {
  eng.stop();
  server.close();
}
