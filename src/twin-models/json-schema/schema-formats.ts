// The formats this operator checks, written here rather than taken from ajv-formats: the temporal ones are
// those DTDL needs too, and each is a linear check. Other formats are named in a warning and not checked.
import { isIPv4, isIPv6 } from 'node:net';
import { isDate, isDateTime, isDuration, isFullTime } from '../temporal.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 1123 host name: labels of at most 63 characters, 253 in all. */
function isHostname(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

export const CHECKED_FORMATS: Record<string, { check: (text: string) => boolean; words: string }> = {
  date: { check: isDate, words: 'a date (RFC 3339) such as 2024-05-31' },
  time: { check: isFullTime, words: 'a time with its offset (RFC 3339) such as 13:45:00Z' },
  'date-time': { check: isDateTime, words: 'a date and time (RFC 3339) such as 2024-05-31T13:45:00Z' },
  duration: { check: isDuration, words: 'an ISO 8601 duration such as PT15M or P1D' },
  ipv4: { check: isIPv4, words: 'an IPv4 address' },
  ipv6: { check: isIPv6, words: 'an IPv6 address' },
  uuid: { check: (text) => UUID.test(text), words: 'a UUID' },
  hostname: { check: isHostname, words: 'a host name' },
};
