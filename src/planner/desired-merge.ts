// Desired properties and patches merged as the hub merges a PATCH: objects merge key by key, anything else
// replaces, and a null deletes.

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `target` with `patch` merged in. `keepNulls`: merging two patches, where a null must stay to delete on the hub,
 * rather than applying a patch to desired, where it deletes.
 */
export function mergeDesired(
  target: Readonly<Record<string, unknown>>,
  patch: Readonly<Record<string, unknown>>,
  keepNulls = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      if (keepNulls) out[key] = null;
      else delete out[key];
    } else if (isObject(value) && isObject(out[key])) {
      out[key] = mergeDesired(out[key] as Record<string, unknown>, value, keepNulls);
    } else if (isObject(value) && !keepNulls) {
      out[key] = mergeDesired({}, value, false);
    } else out[key] = value;
  }
  return out;
}
