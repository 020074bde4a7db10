import { createApp } from "./app";
import type { Env } from "./env";

export { ExecutionObject } from "./objects/execution-object";
export { FlowScheduleObject } from "./objects/flow-schedule-object";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
