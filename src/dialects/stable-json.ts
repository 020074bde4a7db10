/**
 * JSON with object keys sorted, so two documents built in a different key order compare equal. The engine's
 * `secret_configured: false` marker (added on store, meaning "no secret") is left out: it says nothing; so is
 * `token_configured`, which the store sets from the hashed token a write leaves behind (never part of the input).
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([k, x]) => !(k === "secret_configured" && x === false) && k !== "token_configured")
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Core flow features no dialect expresses: a flow using any of them is shown with `x_native` and refused on writes. */
export const NATIVE_ONLY_FIELDS = [
  "trigger_conditions",
  "schedules",
  "loops",
  "entity_schema",
  "max_executions",
  "retry_policy",
  "concurrency_limit",
  "system_flow",
  "protected",
] as const;

export function usesNativeOnly(flow: Record<string, unknown>): boolean {
  return NATIVE_ONLY_FIELDS.some((k) => {
    const v = flow[k];
    return v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0);
  });
}
