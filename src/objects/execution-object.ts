import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/** One object per execution: stores its state machine and drives it with alarms (filled in by the engine). */
export class ExecutionObject extends DurableObject<Env> {}
