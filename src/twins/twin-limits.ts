// What IoT Hub accepts in a twin's desired properties and tags (IoT Hub twin documentation, "Tags and properties
// format" and "Twin size"): checked before anything is written, so that a value the hub would refuse is a problem of the
// resource rather than a failed write on every device.

export const TWIN_LIMITS = {
  /** tags (users' own and the operator's ownership record together), counted as twinValueSize counts. */
  tagsBytes: 8 * 1024,
  /** properties.desired, counted as twinValueSize counts. */
  desiredBytes: 32 * 1024,
  /** A string value, in UTF-8 bytes without control characters. */
  stringBytes: 4 * 1024,
  /**
   * Objects and arrays nested in properties.desired: the value of a key at this level (its own keys are level 1)
   * may still be one, whose keys then hold only scalars (the documentation's example: ten objects, a value inside).
   */
  depth: 10,
  maxInteger: 4503599627370495,
  minInteger: -4503599627370496,
} as const;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the hub leaves out
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** The size the hub counts for a string: its UTF-8 bytes, control characters (C0 and C1) not counted. */
export function twinStringSize(text: string): number {
  return Buffer.byteLength(text.replace(CONTROL_CHARACTERS, ''), 'utf8');
}

/**
 * The size the hub counts for a value ("How is device twin size calculated"): for each property its key's size
 * plus its value's; strings as twinStringSize, numbers 8 bytes, booleans 4, objects and arrays the sum of what
 * they hold. `value` must not contain itself (the caller has checked its depth).
 */
export function twinValueSize(value: unknown): number {
  if (typeof value === 'string') return twinStringSize(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (value === null || typeof value !== 'object') return 0;
  let size = 0;
  if (Array.isArray(value)) for (const item of value) size += twinValueSize(item);
  else
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      size += twinStringSize(key) + twinValueSize(item);
  return size;
}
