// The temporal strings of DTDL (date, time, dateTime, duration) and of JSON Schema's formats of the same names:
// RFC 3339 dates and times, ISO 8601 durations. Plain regular expressions without nested repetition: linear.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))?$/;
const DURATION = /^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?)?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** RFC 3339 full-date: 2024-02-29. */
export function isDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function isTimeWith(text: string, offset: 'required' | 'optional'): boolean {
  const m = TIME.exec(text);
  if (!m) return false;
  if (offset === 'required' && m[5] === undefined) return false;
  const [hour, minute, second] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // 60 is a leap second, which RFC 3339 allows.
  if (hour > 23 || minute > 59 || second > 60) return false;
  return m[6] === undefined || (Number(m[6]) <= 23 && Number(m[7]) <= 59);
}

/** A time of day, 13:45:00 or 13:45:00.250, with an optional offset (DTDL's time; RFC 3339 partial-time). */
export function isTime(text: string): boolean {
  return isTimeWith(text, 'optional');
}

/** RFC 3339 full-time, as JSON Schema's `time` format: the offset is required. */
export function isFullTime(text: string): boolean {
  return isTimeWith(text, 'required');
}

/** RFC 3339 date-time, with its offset: 2024-02-29T13:45:00Z. */
export function isDateTime(text: string): boolean {
  const separator = text.search(/[Tt]/);
  return separator === 10 && isDate(text.slice(0, 10)) && isFullTime(text.slice(11));
}

/** ISO 8601 duration with at least one part: P1D, PT7M, P1Y2M3DT4H5M6.5S (not P nor PT alone). */
export function isDuration(text: string): boolean {
  return DURATION.test(text) && text !== 'P' && !text.endsWith('T');
}
