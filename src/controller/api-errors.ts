// What a failed Kubernetes API call says, for logs and conditions: the status and the API server's own message,
// which for a refusal names the user, the verb and the resource ("... cannot patch resource
// \"securitymoduleconfigs/status\" in API group \"iotsecurity.io\" ...").
import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed call (`statusCode` for watch errors), or 0 when there was no answer. */
export function apiStatus(error: unknown): number {
  if (error instanceof ApiException) return error.code;
  const e = error as { statusCode?: unknown; status?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.status === 'number' ? e.status : 0;
}

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
  const status = apiStatus(error);
  return status ? `${status}: ${apiMessage(error)}` : apiMessage(error);
}
