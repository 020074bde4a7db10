import { ExecuteRequest } from "../../schemas/integrations";
import type { ExecuteBody } from "../../services/unified-execute";
import { defineLens } from "../lens";

/**
 * Plura execute request ⇄ core (the dialect contract: src/dialects/lens.ts). Plura's request is the engine's own
 * unified execute request (seed 000 is where it came from), so the lens is the identity both ways and nothing is
 * lost; the route validated it with the same schema. What Plura adds is its envelope around every refusal
 * (router.ts, pluraEnvelope).
 */
export const pluraLens = defineLens({
  title: "the Plura API",
  noun: "execute request",
  schema: ExecuteRequest,
  toCore: (body: ExecuteBody) => body,
  fromCore: (body: ExecuteBody) => ({ doc: body, keep: undefined, untranslated: [] }),
});
