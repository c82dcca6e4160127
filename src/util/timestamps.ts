/**
 * Request timestamps. Robots of the original service send offset-less times meant as UTC
 * (`2026-01-05T10:15:00.123456`) and filters may be plain dates (`2026-01-05`); newer clients send RFC
 * 3339 with an offset. All three are accepted and read as UTC when no offset is given.
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether `year-month-day` is a day of the (proleptic Gregorian) calendar; `month` is 1–12. */
function isCalendarDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0));
}

/** The decimal digits of `value` from `start` to `end` as a number; -1 where one is not a digit. */
function digitsAt(value: string, start: number, end: number): number {
  let number = 0;
  for (let i = start; i < end; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    number = number * 10 + digit;
  }
  return number;
}

/**
 * For a time in the form `Date.prototype.toISOString` writes (`2026-01-05T10:15:00.123Z`, every time this
 * service sends), whether it is a real instant; undefined for any other form. Character by character,
 * without a regular expression or a Date: response validation asks it of every time of a page.
 */
function canonicalTimestamp(value: string): boolean | undefined {
  if (
    value.length !== 24 ||
    value[4] !== '-' ||
    value[7] !== '-' ||
    value[10] !== 'T' ||
    value[13] !== ':' ||
    value[16] !== ':' ||
    value[19] !== '.' ||
    value[23] !== 'Z'
  ) {
    return undefined;
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 7);
  const day = digitsAt(value, 8, 10);
  const hour = digitsAt(value, 11, 13);
  const minute = digitsAt(value, 14, 16);
  const second = digitsAt(value, 17, 19);
  if (Math.min(year, month, day, hour, minute, second, digitsAt(value, 20, 23)) < 0) return undefined;
  return isCalendarDay(year, month, day) && hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * The `date-time` format for request validation: RFC 3339, offset-less date-time, or a plain date.
 * Response validation checks every time of a page with it (thousands in an overview), so the canonical
 * form our mappers write takes a fast path (`canonicalTimestamp`).
 */
export function isLenientTimestamp(value: string): boolean {
  return canonicalTimestamp(value) ?? parseTimestamp(value) !== undefined;
}

/** Parses a request timestamp (see above) into a Date, or undefined when it is not a real instant. */
export function parseTimestamp(value: string): Date | undefined {
  const match = TIMESTAMP.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', offset = 'Z'] = match;
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  const zone =
    offset.toUpperCase() === 'Z'
      ? 'Z'
      : offset.length === 5
        ? `${offset.slice(0, 3)}:${offset.slice(3)}`
        : offset;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}${zone}`);
  if (Number.isNaN(date.getTime())) return undefined;
  // Date rolls 2026-02-30 over into March; a calendar date that does not exist is not accepted.
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day)) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  return date;
}

/** A time as the API shows it (UTC ISO 8601 with `Z`), or null. */
export function iso(date: Date | null | undefined): string | null {
  return date == null ? null : date.toISOString();
}
