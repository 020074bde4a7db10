import type { z } from "zod";
import type { ActionOutcome, ApprovalState } from "../engine/execution/types";
import type { SideEffect } from "../engine/reruns/side-effects";
import type { TemplateContext } from "../engine/templates";
import type { Env } from "../env";

/** What an action sees when it runs: bindings, who and where it runs for, and its idempotency key. */
export interface ActionContext {
  env: Env;
  orgId: string;
  executionId: string;
  flowId: string;
  actionId: string;
  attempt: number;
  iteration?: number;
  /** `<execution_id>:<action_id>` (plus `:<iteration>` in a loop): the same for every attempt. */
  idempotencyKey: string;
  now: number;
  /** Position of this execution in a chain of flows starting flows. */
  depth: number;
  entityId: string;
  entity: Record<string, unknown> | null;
  triggerEvent: Record<string, unknown>;
  /** The execution's correlation_key (a trigger-workflow child inherits it). */
  correlationKey?: string;
  /** Issues the execution's resume token for a pause: the token is returned once, only its hash is kept. */
  issueResumeToken(): Promise<{ token: string; hash: string }>;
  /**
   * What this action's config templates saw (trigger, entity, earlier actions' outputs, loop item, variables,
   * execution): stored templates an action renders itself (e-mail and document templates) use the same.
   */
  templateContext(): TemplateContext;
  /** A multi-step action's progress from its previous step (absent or null on its first step). */
  progress?: unknown;
  /** A multi-step action's tool call waiting for, or given, a person's decision. */
  approval?: ApprovalState;
  /** The agent whose run this is (its `agent_config`): what AI steps use for the settings they leave unset. */
  agent?: AgentDefaults;
}

/** An agent's `agent_config` as its workflow's AI steps read it (docs/ai.md, precedence). */
export interface AgentDefaults {
  agent_id: string;
  instructions?: string;
  connection_id?: string;
  model?: string;
  tools?: string[];
}

/**
 * An action's result: the engine's outcome, plus the request and response kept in the run history and the
 * side effects the attempt caused (the ledger; none when absent: an action that sends or writes says so).
 */
export type ActionResult = ActionOutcome & { request?: unknown; response?: unknown; effects?: SideEffect[] };

/** What an action's effects depend on besides its rendered config, known without running it. */
export type EffectContext = Pick<
  ActionContext,
  "env" | "orgId" | "actionId" | "idempotencyKey" | "entityId" | "entity" | "triggerEvent"
>;

/** One action type: its runtime config schema (validated after templates are rendered) and what it does. */
export interface ActionHandler<S extends z.ZodType = z.ZodType> {
  types: readonly string[];
  config: S;
  run(ctx: ActionContext, config: z.infer<S>): Promise<ActionResult>;
  /**
   * The side effects a run with this config would cause, found without causing them (reads allowed, e.g. which
   * connection would be used): a rerun's preview and an interrupted attempt's ledger entry. Absent: none.
   * Throwing an AppError says the run would fail before sending anything.
   */
  effects?(ctx: EffectContext, config: z.infer<S>): SideEffect[] | Promise<SideEffect[]>;
}

export const defineAction = <S extends z.ZodType>(handler: ActionHandler<S>): ActionHandler<S> => handler;

/** A failure that retrying cannot fix (bad config, a refused target, a 4xx). */
export const permanentFailure = (
  code: Extract<ActionOutcome, { kind: "failed" }>["error"]["error_code"],
  reason: string,
  info?: Record<string, unknown>,
): ActionResult => ({
  kind: "failed",
  error: { error_code: code, error_reason: reason, ...(info ? { error_info: info } : {}) },
  retry: "never",
  effects: [],
});

/** Tells a helper's early failure from the value it looks up (`const x = await lookup(ctx); if (isResult(x)) return x;`). */
export const isResult = (v: unknown): v is ActionResult =>
  typeof v === "object" && v !== null && "kind" in v && typeof (v as { kind: unknown }).kind === "string";
