/**
 * IMAP `date-time` (INTERNALDATE, APPEND) and `date` (SEARCH SINCE/BEFORE/ON/SENT*) — RFC 3501 §9:
 *
 * ```
 * date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
 * date      = date-text / DQUOTE date-text DQUOTE      date-text = date-day "-" date-month "-" date-year
 * ```
 *
 * The functions here work on the text between the quotes. Parsing accepts month names in any case
 * and a one-digit day with or without the leading space; formatting writes a zero-padded day
 * (`05-Mar-2024 10:00:00 +0000`), which every client parses.
 *
 * @example
 * ```ts ignore
 * import { formatDateTime, parseDate, parseDateTime } from "./date_time.ts";
 * parseDateTime("17-Jul-1996 02:44:25 -0700").toISOString(); // "1996-07-17T09:44:25.000Z"
 * formatDateTime(new Date(Date.UTC(2024, 2, 5, 10)), 60); // "05-Mar-2024 11:00:00 +0100"
 * parseDate("1-Feb-1994"); // { year: 1994, month: 2, day: 1 }
 * ```
 *
 * @module
 */

/** Raised for text that is not a valid IMAP date or date-time. */
export class DateTimeError extends SyntaxError {
  /** Creates the error; `message` says what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "DateTimeError";
  }
}

/** A calendar day as IMAP SEARCH uses it (no time, no zone). `month` is 1–12. */
export interface ImapDate {
  /** Four-digit year. */
  year: number;
  /** 1 (January) … 12 (December). */
  month: number;
  /** 1 … 31. */
  day: number;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i + 1]));

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function show(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
}

const DATE_TIME_RE =
  /^ ?([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})$/;
const DATE_RE = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/;

function checkDay(text: string, dayText: string, monText: string, yearText: string): ImapDate {
  const month = MONTH_INDEX.get(monText.toLowerCase());
  if (month === undefined) throw new DateTimeError(`Invalid month in date ${show(text)}`);
  const year = Number(yearText);
  const day = Number(dayText);
  if (day < 1 || day > daysInMonth(year, month)) {
    throw new DateTimeError(`Invalid day of month in date ${show(text)}`);
  }
  return { year, month, day };
}

/**
 * Parses a `date-time` without its quotes (`"17-Jul-1996 02:44:25 -0700"` → the instant). A leap
 * second (`:60`) is read as `:59`. Throws {@link DateTimeError}.
 */
export function parseDateTime(text: string): Date {
  const m = DATE_TIME_RE.exec(text);
  if (!m) {
    throw new DateTimeError(
      `Invalid date-time ${show(text)} (expected "dd-Mon-yyyy hh:mm:ss +zzzz")`,
    );
  }
  // A one-digit day must be written " d" (date-day-fixed); be lenient about a missing space but
  // not about a space before two digits.
  if (text.startsWith(" ") && m[1].length === 2) {
    throw new DateTimeError(`Invalid date-time ${show(text)}: space before a two-digit day`);
  }
  const { year, month, day } = checkDay(text, m[1], m[2], m[3]);
  const hh = Number(m[4]);
  const mm = Number(m[5]);
  let ss = Number(m[6]);
  if (hh > 23 || mm > 59 || ss > 60) throw new DateTimeError(`Invalid time in ${show(text)}`);
  if (ss === 60) ss = 59;
  const zh = Number(m[8]);
  const zm = Number(m[9]);
  if (zm > 59) throw new DateTimeError(`Invalid zone in ${show(text)}`);
  const offset = (m[7] === "-" ? -1 : 1) * (zh * 60 + zm);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // years < 100 must not be mapped to 19xx
  d.setUTCHours(hh, mm - offset, ss, 0);
  return d;
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/**
 * Formats an instant as a `date-time` without quotes, in the zone `offsetMinutes` east of UTC
 * (default 0 = `+0000`). Throws `RangeError` for an invalid date, a year outside 1–9999 or an
 * offset beyond ±23:59.
 */
export function formatDateTime(date: Date | number, offsetMinutes = 0): string {
  const ms = typeof date === "number" ? date : date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("Cannot format an invalid date");
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) >= 24 * 60) {
    throw new RangeError(`Invalid zone offset ${offsetMinutes}`);
  }
  const local = new Date(ms + offsetMinutes * 60_000);
  const year = local.getUTCFullYear();
  if (year < 1 || year > 9999) {
    throw new RangeError(`Year ${year} cannot be written as a date-time`);
  }
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${pad2(local.getUTCDate())}-${MONTHS[local.getUTCMonth()]}-${
    String(year).padStart(4, "0")
  } ${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${
    pad2(local.getUTCSeconds())
  } ${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

/** Parses a `date-text` (`1-Feb-1994`, `01-feb-1994`) without quotes. Throws {@link DateTimeError}. */
export function parseDate(text: string): ImapDate {
  const m = DATE_RE.exec(text);
  if (!m) throw new DateTimeError(`Invalid date ${show(text)} (expected "d-Mon-yyyy")`);
  return checkDay(text, m[1], m[2], m[3]);
}

/** Formats an {@link ImapDate} as `date-text` (`1-Feb-1994`). */
export function formatDate(date: ImapDate): string {
  return `${date.day}-${MONTHS[date.month - 1]}-${String(date.year).padStart(4, "0")}`;
}

/** The calendar day of an instant in the zone `offsetMinutes` east of UTC (default UTC). */
export function imapDateOf(date: Date | number, offsetMinutes = 0): ImapDate {
  const ms = typeof date === "number" ? date : date.getTime();
  const local = new Date(ms + offsetMinutes * 60_000);
  return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
}

/** Negative, zero or positive as `a` is before, the same day as, or after `b`. */
export function compareImapDates(a: ImapDate, b: ImapDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/**
 * The first instant (Unix ms) of `date` in the zone `offsetMinutes` east of UTC: SEARCH `SINCE d`
 * is `t >= startOfImapDate(d)`, `BEFORE d` is `t < startOfImapDate(d)`.
 */
export function startOfImapDate(date: ImapDate, offsetMinutes = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(date.year, date.month - 1, date.day);
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime() - offsetMinutes * 60_000;
}
