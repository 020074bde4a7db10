import { DurableObject } from "cloudflare:workers";

/**
 * The engine's durable I/O for a two-action run, without the engine (bench/floor.sh): what one Durable
 * Object per execution, an alarm watchdog, a commit around each outbound call and a D1 outbox cost on
 * this runtime. Per start: one D1 read (the record), a new object, a commit of the creation and the
 * watchdog alarm; per action a commit before (dispatched) and after (result) the call; then the D1
 * finish (statistics and summary in one batch), the outbox cleared and the alarm moved to retention.
 * Folded as the engine folds them (issue 29): a commit writes its kv rows in one statement, and the
 * result of one call and the dispatch of the next are one commit.
 */

interface Env {
  DB: D1Database;
  RUNS: DurableObjectNamespace<Run>;
}
type Params = { id: string; sink: string };

const WATCHDOG_MS = 60_000;
const RETENTION_MS = 30 * 86_400_000;

export class Run extends DurableObject<Env> {
  private sql = this.ctx.storage.sql;

  async start(p: Params): Promise<{ created: boolean }> {
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
       CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, data TEXT NOT NULL)`,
    );
    if (this.sql.exec(`SELECT 1 FROM kv WHERE key = 'state'`).toArray().length) return { created: false };
    this.put({ state: { id: p.id, status: "pending", step: 0 }, outbox: { finished: false } });
    this.event({ type: "created", input: p });
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
    // Like the engine's inline start: the run goes on after the answer.
    void this.run(p).catch((err) => console.warn(`floor run ${p.id}: ${String(err)}`));
    return { created: true };
  }

  private async run(p: Params): Promise<void> {
    const steps = ["1", "done"];
    this.put({ state: { id: p.id, status: "in_progress", step: 0 }, pending: { step: steps[0], dispatched_at: Date.now() } });
    for (const [i, step] of steps.entries()) {
      const res = await fetch(`${p.sink}/?id=${encodeURIComponent(p.id)}&step=${step}`);
      const body = await res.text();
      // The result, and the next call dispatched (or the finish's outbox), in one commit.
      const next = steps[i + 1];
      this.put({
        state: { id: p.id, status: next ? "in_progress" : "success", step: i + 1 },
        ...(next ? { pending: { step: next, dispatched_at: Date.now() } } : { outbox: { finished: true } }),
      });
      this.event({ type: "action_result", step, status: res.status, body: body.slice(0, 200) });
    }
    const db = this.env.DB;
    await db.batch([
      db.prepare(`INSERT INTO flows (id, runs) VALUES ('f', 1) ON CONFLICT (id) DO UPDATE SET runs = runs + 1`),
      db.prepare(`INSERT INTO executions (id, status, updated_at) VALUES (?, 'success', ?)`).bind(p.id, Date.now()),
    ]);
    this.sql.exec(`DELETE FROM kv WHERE key IN ('outbox', 'pending')`);
    await this.ctx.storage.setAlarm(Date.now() + RETENTION_MS);
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** The rows of one commit, in one statement. */
  private put(rows: Record<string, unknown>): void {
    const entries = Object.entries(rows);
    this.sql.exec(
      `INSERT INTO kv (key, value) VALUES ${entries.map(() => "(?, ?)").join(", ")} ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ...entries.flatMap(([k, v]) => [k, JSON.stringify(v)]),
    );
  }

  private event(data: { type: string } & Record<string, unknown>): void {
    this.sql.exec(`INSERT INTO events (at, data) VALUES (?, ?)`, Date.now(), JSON.stringify(data));
  }
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/") return Response.json({ ok: true });
    if (url.pathname === "/setup") {
      await env.DB.batch([
        env.DB.prepare(`CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, data TEXT NOT NULL)`),
        env.DB.prepare(`CREATE TABLE IF NOT EXISTS flows (id TEXT PRIMARY KEY, runs INTEGER NOT NULL)`),
        env.DB.prepare(`CREATE TABLE IF NOT EXISTS executions (id TEXT PRIMARY KEY, status TEXT NOT NULL, updated_at INTEGER)`),
      ]);
      return Response.json({ ok: true });
    }
    if (url.pathname === "/create" && req.method === "POST") {
      const p = await req.json<Params>();
      // The start path's read: the record the execution names.
      await env.DB.prepare(`SELECT data FROM records WHERE id = ?`).bind(p.id).first();
      const res = await env.RUNS.get(env.RUNS.idFromName(p.id)).start(p);
      return Response.json({ id: p.id, ...res }, { status: 201 });
    }
    return new Response("not found", { status: 404 });
  },
};
