// Times as the Kubernetes API writes them: RFC 3339 in UTC, with whole seconds (`metav1.Time`: conditions,
// Events) or with microseconds (`metav1.MicroTime`: a Lease's renew time).

/** `2024-05-01T12:00:00Z`, as Time fields are written. */
export function formatKubeTime(at: Date | number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2024-05-01T12:00:00.123000Z`, as MicroTime fields are written. */
export function formatKubeMicroTime(at: Date | number): string {
  return new Date(at).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
