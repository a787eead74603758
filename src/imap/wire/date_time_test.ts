import assert from "node:assert/strict";
import {
  compareImapDates,
  DateTimeError,
  formatDate,
  formatDateTime,
  imapDateOf,
  parseDate,
  parseDateTime,
  startOfImapDate,
} from "./date_time.ts";

Deno.test("date-time: parse", () => {
  assert.equal(
    parseDateTime("17-Jul-1996 02:44:25 -0700").toISOString(),
    "1996-07-17T09:44:25.000Z",
  );
  assert.equal(
    parseDateTime(" 7-Jul-1996 02:44:25 +0000").toISOString(),
    "1996-07-07T02:44:25.000Z",
  );
  assert.equal(
    parseDateTime("7-jul-1996 02:44:25 +0000").toISOString(),
    "1996-07-07T02:44:25.000Z",
  );
  assert.equal(
    parseDateTime("01-Jan-2024 00:30:00 +0100").toISOString(),
    "2023-12-31T23:30:00.000Z",
  );
  assert.equal(
    parseDateTime("29-Feb-2024 23:59:60 +0530").toISOString(),
    "2024-02-29T18:29:59.000Z",
  );
  assert.equal(parseDateTime("01-Jan-0050 00:00:00 +0000").getUTCFullYear(), 50);
});

Deno.test("date-time: invalid text is refused", () => {
  for (
    const s of [
      "",
      "17-Jul-1996",
      "17-Jul-1996 02:44:25",
      "17-Jly-1996 02:44:25 -0700",
      "32-Jul-1996 02:44:25 -0700",
      "29-Feb-2023 02:44:25 -0700",
      "00-Jul-1996 02:44:25 -0700",
      "17-Jul-96 02:44:25 -0700",
      "17-Jul-1996 24:00:00 -0700",
      "17-Jul-1996 02:60:25 -0700",
      "17-Jul-1996 02:44:25 -0760",
      "17-Jul-1996 02:44:25 0700",
      " 17-Jul-1996 02:44:25 -0700",
      "17-Jul-1996  02:44:25 -0700",
      "17-Jul-1996 02:44:25 -0700 ",
      "１7-Jul-1996 02:44:25 -0700",
    ]
  ) {
    assert.throws(() => parseDateTime(s), DateTimeError, JSON.stringify(s));
  }
});

Deno.test("date-time: format", () => {
  const t = Date.UTC(2024, 2, 5, 10, 4, 9);
  assert.equal(formatDateTime(t), "05-Mar-2024 10:04:09 +0000");
  assert.equal(formatDateTime(new Date(t), 60), "05-Mar-2024 11:04:09 +0100");
  assert.equal(formatDateTime(t, -330), "05-Mar-2024 04:34:09 -0530");
  assert.equal(formatDateTime(Date.UTC(2024, 0, 1, 0, 30), -60), "31-Dec-2023 23:30:00 -0100");
  assert.throws(() => formatDateTime(NaN), RangeError);
  assert.throws(() => formatDateTime(t, 24 * 60), RangeError);
  assert.throws(() => formatDateTime(Date.UTC(10000, 0, 1)), RangeError);
  // Round trip.
  for (const off of [0, 60, -420, 345]) {
    const s = formatDateTime(t, off);
    assert.equal(parseDateTime(s).getTime(), t);
  }
});

Deno.test("date: parse, format, compare, start of day", () => {
  assert.deepEqual(parseDate("1-Feb-1994"), { year: 1994, month: 2, day: 1 });
  assert.deepEqual(parseDate("01-FEB-1994"), { year: 1994, month: 2, day: 1 });
  for (const s of ["", "1-Feb-94", "30-Feb-1994", "1 Feb 1994", "1-Feb-1994 ", "123-Feb-1994"]) {
    assert.throws(() => parseDate(s), DateTimeError, s);
  }
  assert.equal(formatDate({ year: 1994, month: 2, day: 1 }), "1-Feb-1994");
  const t = Date.UTC(2024, 2, 5, 23, 30);
  assert.deepEqual(imapDateOf(t), { year: 2024, month: 3, day: 5 });
  assert.deepEqual(imapDateOf(t, 60), { year: 2024, month: 3, day: 6 });
  assert.ok(compareImapDates(parseDate("5-Mar-2024"), parseDate("6-Mar-2024")) < 0);
  assert.equal(compareImapDates(parseDate("5-Mar-2024"), parseDate("05-mar-2024")), 0);
  assert.equal(startOfImapDate(parseDate("5-Mar-2024")), Date.UTC(2024, 2, 5));
  assert.equal(startOfImapDate(parseDate("5-Mar-2024"), 60), Date.UTC(2024, 2, 4, 23));
});
