/** A step of the reconciliation that threw: which step, which item (an execution, a job) if one, and why. */
export interface ReconcileError {
  step: string;
  id?: string;
  message: string;
}

/**
 * Runs one step of the reconciliation. A step that throws is reported (in `errors` and on the console)
 * instead of propagating: the reconciliation is the safety net of everything else, so one broken row
 * or one failing query must not keep the other steps from running.
 */
export async function runStep(errors: ReconcileError[], step: string, fn: () => Promise<void>, id?: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`reconcile step ${step}${id === undefined ? "" : ` (${id})`} failed: ${message}`);
    errors.push(id === undefined ? { step, message } : { step, id, message });
  }
}
