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
