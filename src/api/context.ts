import type { Env } from "../env";
import type { Principal } from "../lib/principal";

/** Hono's environment for every API route: the Worker bindings and what the middleware resolved. */
export type AppEnv = {
  Bindings: Env;
  Variables: { principal: Principal; requestId: string };
};
