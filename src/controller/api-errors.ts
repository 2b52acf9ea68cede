// What a failed Kubernetes API call says, for logs and conditions: the status and the API server's own message,
// which for a refusal names the user, the verb and the resource ("... cannot patch resource
// \"securitymoduleconfigs/status\" in API group \"iotsecurity.io\" ...").
import { ApiException } from '@kubernetes/client-node';
import { httpStatusOf } from '../runtime/http-status.js';

/** The API server's message of a failed call, or the error's own message. */
export function apiMessage(error: unknown): string {
  if (!(error instanceof ApiException)) return (error as Error)?.message ?? String(error);
  const body = error.body as unknown;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? error.message;
}

/** `STATUS: message`, or just the message when there was no answer. */
export function describeApiError(error: unknown): string {
  const status = httpStatusOf(error);
  return status ? `${status}: ${apiMessage(error)}` : apiMessage(error);
}

/**
 * Why a GET of `kind` `namespace/name` (`resource`: its plural, as RBAC names it) failed, for logs and conditions: a
 * refusal (403) says which right to grant the operator.
 */
export function getFailureMessage(
  error: unknown,
  kind: string,
  resource: string,
  namespace: string,
  name: string,
): string {
  const status = httpStatusOf(error) ?? 0;
  const where = `${kind} ${namespace}/${name}`;
  return status === 403
    ? `not allowed to get ${where}: ${apiMessage(error)}; grant get on ${resource} to the operator's ServiceAccount (see manifests/)`
    : `get ${where} failed${status ? ` (${status})` : ''}: ${apiMessage(error)}`;
}
