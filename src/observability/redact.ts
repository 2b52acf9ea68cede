// Secrets never reach a log line, an event, a status or an error message: this removes them from any text.

const PATTERNS: [RegExp, string][] = [
  // Connection strings: SharedAccessKey=<base64>, also inside longer strings.
  [/(SharedAccessKey\s*=\s*)[^;"'\s]+/gi, '$1[REDACTED]'],
  // SAS tokens: sig=<url-encoded base64> (in Authorization headers and URLs).
  [/(\bsig=)[^&;"'\s]+/gi, '$1[REDACTED]'],
  // Bare SharedAccessSignature headers that carry a signature in another order.
  [/(SharedAccessSignature\s+)[^"'\s]*sig=[^"'\s]*/gi, '$1[REDACTED]'],
  // x509 / PEM private keys.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED PRIVATE KEY]'],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A deep copy of `value` with every string redacted; cycles are cut. */
export function redactValue(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof Error) {
    return { name: value.name, message: redactSecrets(value.message) };
  }
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, seen)]));
}
