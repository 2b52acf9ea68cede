/** A value found in a twin document and the key it was found under (its spelling in the document). */
export interface TwinEntry {
  readonly key: string;
  readonly value: unknown;
}

/*
 * Property names match case-insensitively, as in hub queries (routing query syntax article: "the query is
 * not case-sensitive"; azure-iot-sdk-csharp#257: property names are case-insensitive, values are not). An
 * exact match wins, so the common case is one property read per segment. Only own properties count: twin
 * documents are plain JSON objects, whose only inherited names are Object.prototype's, so a name such as
 * `constructor` is checked with Object.hasOwn and every other name can be read directly. Arrays and
 * primitives have no named properties.
 */

interface Step {
  readonly name: string;
  readonly lowered: string;
  readonly inherited: boolean;
}

const toSteps = (segments: readonly string[]): Step[] =>
  segments.map((name) => ({ name, lowered: name.toLowerCase(), inherited: name in Object.prototype }));

/** Compiles a path into a lookup returning the value, or `undefined` when the path is not defined. */
export function compileValueLookup(segments: readonly string[]): (document: unknown) => unknown {
  const steps = toSteps(segments);
  // Paths are short; unrolling the usual lengths keeps the hot loop free of bookkeeping.
  const [a, b, c] = steps;
  switch (steps.length) {
    case 1:
      return (document) => valueAt(document, a);
    case 2:
      return (document) => valueAt(valueAt(document, a), b);
    case 3:
      return (document) => valueAt(valueAt(valueAt(document, a), b), c);
    default:
      return (document) => {
        let current = document;
        for (let i = 0; i < steps.length && current !== undefined; i++) current = valueAt(current, steps[i]);
        return current;
      };
  }
}

function valueAt(current: unknown, step: Step): unknown {
  if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
  const object = current as Record<string, unknown>;
  if (!step.inherited) {
    const value = object[step.name];
    if (value !== undefined) return value;
  } else if (Object.hasOwn(object, step.name)) {
    return object[step.name];
  }
  const key = keyIgnoringCase(object, step.lowered);
  return key === undefined ? undefined : object[key];
}

/** Compiles a path into a lookup that also reports the document's spelling of the last key. */
export function compileEntryLookup(
  segments: readonly string[],
): (document: unknown) => TwinEntry | undefined {
  const steps = toSteps(segments);
  return (document) => {
    let current = document;
    let key: string | undefined;
    for (let i = 0; i < steps.length; i++) {
      key = keyOf(current, steps[i]);
      if (key === undefined) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    return key === undefined || current === undefined ? undefined : { key, value: current };
  };
}

function keyOf(current: unknown, step: Step): string | undefined {
  if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
  const object = current as Record<string, unknown>;
  if (step.inherited ? Object.hasOwn(object, step.name) : object[step.name] !== undefined) return step.name;
  return keyIgnoringCase(object, step.lowered);
}

function keyIgnoringCase(object: Record<string, unknown>, lowered: string): string | undefined {
  for (const key in object) {
    if (key.length === lowered.length && Object.hasOwn(object, key) && key.toLowerCase() === lowered)
      return key;
  }
  return undefined;
}
