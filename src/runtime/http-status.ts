// The HTTP status of a failed call, whichever client threw it. The hub client's errors carry it as
// `response.statusCode` (azure-iothub) or `statusCode` (our HubError); the Kubernetes client's as `code`
// (client-node's ApiException), `statusCode` (a watch's error) or `status`.

/** The status the server answered with, or undefined when no answer came (a socket error, a timeout). */
export function httpStatusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as {
    statusCode?: unknown;
    response?: { statusCode?: unknown };
    code?: unknown;
    status?: unknown;
  };
  // A socket error's `code` is a string (ECONNRESET): only a number is a status.
  for (const status of [e.statusCode, e.response?.statusCode, e.code, e.status])
    if (typeof status === 'number') return status;
  return undefined;
}
