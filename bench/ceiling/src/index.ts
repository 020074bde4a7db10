import { DurableObject } from "cloudflare:workers";

/**
 * The one-object ceiling: what workerd itself costs per new SQLite Durable Object, with no engine. Mirrors
 * the peer-bench kit's ceiling (../shared/peer-bench/workers/bindings, `/do-new`): a fresh object per request
 * and one `storage.put` in it. bench/soak.mjs measures workerd's RSS per created object here and in the engine.
 */

interface Env {
  EXEC: DurableObjectNamespace<Exec>;
}

export class Exec extends DurableObject<Env> {
  async put(key: string, value: unknown): Promise<number> {
    await this.ctx.storage.put(key, value);
    return 1;
  }
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(req.url);
    if (pathname === "/") return Response.json({ ok: true });
    if (pathname === "/do-new") {
      const stub = env.EXEC.get(env.EXEC.idFromName(crypto.randomUUID()));
      await stub.put("state", { step: 1, t: Date.now() });
      return Response.json({ ok: true });
    }
    return new Response("not found", { status: 404 });
  },
};
