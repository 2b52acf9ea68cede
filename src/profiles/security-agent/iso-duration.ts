// ISO 8601 durations as the security agents read them (PT7M, PT1H, P1D).

const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// The agents convert through .NET TimeSpan / their own parser, which count a year as 365 and a month as 30 days.
// In the order of ISO_DURATION's groups; the CRD's CEL rules sum the same parts the same way (crd-rules.ts).
export const ISO_DURATION_PARTS = [
  { designator: 'Y', inTime: false, ms: 365 * DAY },
  { designator: 'M', inTime: false, ms: 30 * DAY },
  { designator: 'W', inTime: false, ms: 7 * DAY },
  { designator: 'D', inTime: false, ms: DAY },
  { designator: 'H', inTime: true, ms: HOUR },
  { designator: 'M', inTime: true, ms: MINUTE },
  { designator: 'S', inTime: true, ms: SECOND },
] as const;

/** `P` alone and a `T` with nothing after it match ISO_DURATION but are not durations. */
export const isEmptyIsoDuration = (text: string) => text === 'P' || text.endsWith('T');

/** Milliseconds of an ISO 8601 duration, or undefined when the text is not one (`P` and `PT` alone are not). */
export function parseIsoDuration(text: string): number | undefined {
  const match = ISO_DURATION.exec(text);
  if (!match || isEmptyIsoDuration(text)) return undefined;
  let total = 0;
  ISO_DURATION_PARTS.forEach(({ ms }, i) => {
    const part = match[i + 1];
    if (part !== undefined) total += Number(part) * ms;
  });
  return total;
}

/** Whether two durations mean the same time (PT60M equals PT1H); texts that do not parse compare as text. */
export function sameDuration(a: string, b: string): boolean {
  const ma = parseIsoDuration(a);
  const mb = parseIsoDuration(b);
  return ma !== undefined && mb !== undefined ? ma === mb : a === b;
}
