// What a reconcile answers, as controller-runtime's (Result, error) with its TerminalError: only what the
// reconciler knows. What the work queue needs to know about the API server it learns from the errors' transport
// (kube-writer.ts: isApiServerUnreachable), not from flags in this answer.

export type ReconcileResult =
  /** Done; come back after `requeueAfterMs` if given (the session's next step, or the resync). */
  | { kind: 'done'; requeueAfterMs?: number }
  /** Failed in a way that passes: try again after the key's backoff, which grows with each failure in a row. */
  | { kind: 'retry'; error: Error }
  /**
   * Stopped by something only a change can fix (credentials, a Secret, the spec, a used-up quota), reported in the
   * status: no backoff retry, only the resync (`requeueAfterMs`) or an event on the objects brings it back.
   */
  | { kind: 'terminal'; requeueAfterMs?: number };

/** The result, or a retry when writing what it decided failed: the errors gathered into one. */
export function withApplyErrors(result: ReconcileResult, errors: readonly Error[]): ReconcileResult {
  if (errors.length === 0) return result;
  const error =
    errors.length === 1 ? errors[0] : new AggregateError(errors, errors.map((e) => e.message).join('; '));
  return { kind: 'retry', error };
}
