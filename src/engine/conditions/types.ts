/** What a condition is evaluated against. Everything is plain JSON; the engine passes its clock in `now`. */
export interface EvaluationContext {
  /** The trigger event (e.g. `{ type, operation, entity, diff, body, query, headers, ... }`). */
  trigger?: Record<string, unknown>;
  /** The entity snapshot (record): `_id`, `_schema`, attributes...; `record` in templates. */
  entity?: Record<string, unknown> | null;
  /** Previous attribute values (update events). */
  previous?: Record<string, unknown>;
  diff?: EntityDiff;
  /** Earlier actions by action id. */
  actions?: Record<string, { outputs?: unknown; execution_status?: string }>;
  loop?: { item: unknown; index: number };
  variables?: Record<string, unknown>;
  user?: { id?: string; email?: string };
  /** Milliseconds; never read from Date.now() inside evaluation. */
  now?: number;
}

export interface EntityDiff {
  added?: Record<string, unknown>;
  updated?: Record<string, unknown>;
  deleted?: Record<string, unknown>;
}

/** One line of the explanation shown by dry runs and the run history. */
export interface StatementResult {
  id?: string;
  field: string;
  operator: string;
  value: unknown;
  actual_value: unknown;
  passed: boolean;
  /** Value before the change, for `changed*` operators and diff-based statements. */
  previous_value?: unknown;
  /** Why a comparison could not be made (e.g. a value that is not a number); `passed` is still decided. */
  error?: string;
}

export interface ConditionResult {
  passed: boolean;
  statements: StatementResult[];
}

export type EntityOperation = "createEntity" | "updateEntity" | "deleteEntity" | "softDeleteEntity" | "restoreEntity";

/** The event an entity_operation trigger's filter_config is matched against. */
export interface EntityOperationEvent {
  operation: EntityOperation | (string & {});
  entity: Record<string, unknown>;
  diff?: EntityDiff;
  previous?: Record<string, unknown>;
  activity?: { type?: string };
}

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Missing values are reported as null (JSON has no undefined). */
export const reported = (v: unknown): unknown => (v === undefined ? null : v);
