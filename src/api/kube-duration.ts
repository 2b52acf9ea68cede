// Durations in Kubernetes style (Go's time.ParseDuration units that make sense here): 30s, 10m, 1h30m, 500ms.

const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/y;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when the text is not such a duration. */
export function parseKubeDuration(text: string): number | undefined {
  if (text.length === 0) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return total;
}

/** Like parseKubeDuration, but throws an error naming the field for text that does not parse. */
export function requireKubeDuration(text: string, field: string): number {
  const ms = parseKubeDuration(text);
  if (ms === undefined) throw new Error(`${field}: '${text}' is not a duration such as 30s, 10m or 1h`);
  return ms;
}
