import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/** One object per flow with a cron trigger: holds its next fire time and fires it from its alarm. */
export class FlowScheduleObject extends DurableObject<Env> {}
