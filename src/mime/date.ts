/**
 * RFC 5322 dates: a tolerant parser (obsolete forms, comments, named zones) and the two Go
 * layouts the official bridge writes (`time.RFC1123Z`, `time.RFC822`).
 *
 * @module
 */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH_NAMES = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];
const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** RFC 5322 §4.3 obsolete zone names, in minutes east of UTC. */
const ZONES: Record<string, number> = {
  UT: 0,
  UTC: 0,
  GMT: 0,
  Z: 0,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
};

const DATE_REGEXP =
  /^(?:[a-z]+\s*,?\s*)?(\d{1,2})\s*[- ]?\s*([a-z]{3})[a-z]*\.?\s*[- ]?\s*(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}))?(?:\.\d+)?\s*(?:([+-])(\d{2})(\d{2})|([a-z]{1,5}))?\s*$/i;

function stripComments(s: string): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && depth > 0) {
      i++;
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/**
 * Parses an RFC 5322 date-time (also the obsolete forms: two- and three-digit years, named and
 * military zones, comments, missing seconds, missing zone read as UTC). Returns null when the
 * value is not a date.
 */
export function parseRfc5322Date(value: string): Date | null {
  const m = DATE_REGEXP.exec(stripComments(value).replace(/\s+/g, " ").trim());
  if (!m) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2].toLowerCase());
  let year = Number(m[3]);
  if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3].length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offset = 0;
  if (m[7]) {
    const hh = Number(m[8]);
    const mm = Number(m[9]);
    if (mm > 59) return null;
    offset = (m[7] === "-" ? -1 : 1) * (hh * 60 + mm);
  } else if (m[10]) {
    offset = ZONES[m[10].toUpperCase()] ?? 0;
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(hour, minute, Math.min(second, 59), 0);
  if (d.getUTCDate() !== day) return null; // 31 Feb and the like
  return new Date(d.getTime() - offset * 60_000);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** Formats like Go's `time.RFC1123Z` in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`. */
export function formatRfc1123Z(date: Date): string {
  return `${DAY_NAMES[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${
    MONTH_NAMES[date.getUTCMonth()]
  } ` +
    `${pad(date.getUTCFullYear(), 4)} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:` +
    `${pad(date.getUTCSeconds())} +0000`;
}

/** Formats like Go's `time.RFC822` in UTC: `02 Jan 06 15:04 UTC`. */
export function formatRfc822(date: Date): string {
  return `${pad(date.getUTCDate())} ${MONTH_NAMES[date.getUTCMonth()]} ` +
    `${pad(date.getUTCFullYear() % 100)} ${pad(date.getUTCHours())}:${
      pad(date.getUTCMinutes())
    } UTC`;
}

/** Go's zero `time.Time` (`0001-01-01 00:00:00 UTC`), which the bridge writes for a missing date. */
export const GO_ZERO_TIME: Date = (() => {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  d.setUTCHours(0, 0, 0, 0);
  return d;
})();
