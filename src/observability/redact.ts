// Secrets never reach a log line, an event, a status or an error message: this removes them from any text.
// Text that is rendered afterwards (JSON, markdown, a table) is redacted value by value, before it is quoted:
// redactValue over the document, never redactSecrets over the rendered text, whose quoting a pattern could break.
// Covered: connection-string keys, SAS signatures, bare 32-byte keys, private keys, and on the Microsoft Entra ID
// paths bearer tokens, JWTs (access tokens, client assertions, ServiceAccount tokens) and client secrets.

/** Keys of connection strings: IoT Hub and Event Hubs (SharedAccessKey), Storage (AccountKey). */
const KEY_NAMES = '(?:SharedAccessKey|AccountKey)';

/**
 * A value after `=`: quoted (to its closing quote, or to the end when there is none; the quote may be escaped, as
 * in JSON text), or bare up to `;`, a quote or a space. A bare value stops before a backslash that escapes a
 * quote, so that redacting JSON text leaves it valid.
 */
const VALUE = String.raw`(?:\\?"[^"]*"?|\\?'[^']*'?|(?:[^;"'\s\\]|\\(?!["']))+)`;

/** A form field's value: as VALUE, but a bare one also stops at `&`, the next field. */
const FORM_VALUE = String.raw`(?:\\?"[^"]*"?|\\?'[^']*'?|(?:[^&;"'\s\\]|\\(?!["']))+)`;

/** A URL-encoded value: up to an encoded `;` or `&`, a raw one, a quote or a space. */
const ENCODED_VALUE = String.raw`(?:(?!%3B|%26)[^&;"'\s])+`;

/**
 * A shared access key pasted on its own, without `SharedAccessKey=`: 32 random bytes in base64 are 43 characters and
 * one `=`, the last character before it from the 16 whose low bits are zero (what 32 bytes leave). Not part of a
 * longer base64 run, so base64 of other lengths (etags, tokens, certificates' lines) stays as it is.
 */
export const BARE_KEY = '(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=(?![A-Za-z0-9+/=])';

/**
 * A JSON Web Token (an Entra ID access token, a client assertion, a ServiceAccount token): three base64url parts
 * joined by dots, the first two JSON objects, so starting with `eyJ` (`{"`). The signature may be empty (an
 * unsigned token still carries its claims). Dotted names, versions and etags never start two parts with `eyJ`.
 */
export const JWT = String.raw`eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`;

/** Form fields of a token request to Entra ID whose value is the client's credential. */
const CLIENT_CREDENTIAL_FIELDS = '(?:client_secret|client_assertion)';

const PATTERNS: [RegExp, string][] = [
  // Connection strings: SharedAccessKey=<base64>, AccountKey=<base64>, quoted or not, also inside longer strings.
  [new RegExp(String.raw`(${KEY_NAMES}\s*=\s*)${VALUE}`, 'gi'), '$1[REDACTED]'],
  // The same, URL-encoded (a connection string in a query string or a form): SharedAccessKey%3D<value>.
  [new RegExp(`(${KEY_NAMES}%3D)${ENCODED_VALUE}`, 'gi'), '$1[REDACTED]'],
  // SAS tokens: sig=<url-encoded base64> (in Authorization headers and URLs), and sig%3D once more encoded.
  [/(\bsig=)(?:[^&;"'\s\\]|\\(?!["']))+/gi, '$1[REDACTED]'],
  // (After `%26`, the encoded `&`, no word boundary: a letter may not come before.)
  [new RegExp(`((?<![a-z])sig%3D)${ENCODED_VALUE}`, 'gi'), '$1[REDACTED]'],
  // Bare SharedAccessSignature headers that carry a signature in another order.
  [/(SharedAccessSignature\s+)[^"'\s]*sig=[^"'\s]*/gi, '$1[REDACTED]'],
  // A bare key (a Secret's value, a key pasted into a log line or an error message); also one that follows `sig=`
  // or `SharedAccessKey=` is already redacted by then.
  [new RegExp(BARE_KEY, 'g'), '[REDACTED]'],
  // A token after the Bearer scheme (an Authorization header), of any shape: the scheme stays, the token goes. A
  // token is 16 characters or more, so prose ("a bearer token is needed") stays; a WWW-Authenticate parameter
  // (`Bearer authorization_uri="..."`: a name and `=`, not a token) stays too.
  [/(\bBearer\s+)(?![A-Za-z_]+=)[A-Za-z0-9\-._~+/]{16,}=*/gi, '$1[REDACTED]'],
  // Entra ID client credentials in a token request's form (client_secret=, client_assertion=), as an error text may
  // quote it; before JWTs, so that an assertion reads `client_assertion=[REDACTED]`.
  [new RegExp(String.raw`(\b${CLIENT_CREDENTIAL_FIELDS}\s*=\s*)${FORM_VALUE}`, 'gi'), '$1[REDACTED]'],
  // The same form once more URL-encoded: client_secret%3D<value>.
  [new RegExp(`((?<![a-z])${CLIENT_CREDENTIAL_FIELDS}%3D)${ENCODED_VALUE}`, 'gi'), '$1[REDACTED]'],
  // A JWT anywhere else (a token in a log line, a ServiceAccount token file's content, an error's JSON).
  [new RegExp(JWT, 'g'), '[REDACTED JWT]'],
  // x509 / PEM private keys.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED PRIVATE KEY]'],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A deep copy of `value` with every string redacted; cycles are cut. Typed as its input, which it is for plain data
 * (an Error becomes `{name, message}`).
 */
export function redactValue<T>(value: T, seen?: WeakSet<object>): T;
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
