// The one parser of IoT Hub shared access signatures, `SharedAccessSignature sr=<resource>&sig=<signature>&
// se=<expiry>&skn=<policy>` (fields in any order). Parsing only: whether a signature is valid is for whoever
// holds the keys (the emulator) or the hub to say.

export const SHARED_ACCESS_SIGNATURE_PREFIX = 'SharedAccessSignature ';

/**
 * The fields of a token as sent: values raw, still URL-encoded. Undefined when the text is not a
 * SharedAccessSignature: the prefix is missing, a part is not `name=value`, or a name appears twice (two `se`
 * would let one reader check one expiry and another reader cache the other). Required fields are not checked
 * here; each caller knows which it needs.
 */
export function parseSharedAccessSignature(token: string): Record<string, string> | undefined {
  if (typeof token !== 'string' || !token.startsWith(SHARED_ACCESS_SIGNATURE_PREFIX)) return undefined;
  const fields = new Map<string, string>();
  for (const part of token.slice(SHARED_ACCESS_SIGNATURE_PREFIX.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const name = part.slice(0, eq);
    if (fields.has(name)) return undefined;
    // A value may hold '=' (an unencoded base64 signature): only the first one separates.
    fields.set(name, part.slice(eq + 1));
  }
  // fromEntries defines own properties, so a field named __proto__ cannot touch the prototype.
  return Object.fromEntries(fields);
}

/** A token's expiry (`se`) in epoch seconds, or undefined when it is missing or not a whole number. */
export function sharedAccessSignatureExpiry(fields: Readonly<Record<string, string>>): number | undefined {
  const se = Object.hasOwn(fields, 'se') ? fields.se : undefined;
  return se !== undefined && /^\d{1,15}$/.test(se) ? Number(se) : undefined;
}
