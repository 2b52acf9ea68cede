// ISO 8601 durations as the security agents read them (PT7M, PT1H, P1D).

const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// The agents convert through .NET TimeSpan / their own parser, which count a year as 365 and a month as 30 days.
const UNIT_MS = [365 * DAY, 30 * DAY, 7 * DAY, DAY, HOUR, MINUTE, SECOND];

/** Milliseconds of an ISO 8601 duration, or undefined when the text is not one (`P` and `PT` alone are not). */
export function parseIsoDuration(text: string): number | undefined {
  const match = ISO_DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  let total = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = match[i + 1];
    if (part !== undefined) total += Number(part) * UNIT_MS[i];
  }
  return total;
}

/** Whether two durations mean the same time (PT60M equals PT1H); texts that do not parse compare as text. */
export function sameDuration(a: string, b: string): boolean {
  const ma = parseIsoDuration(a);
  const mb = parseIsoDuration(b);
  return ma !== undefined && mb !== undefined ? ma === mb : a === b;
}
