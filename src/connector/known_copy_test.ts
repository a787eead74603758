import assert from "node:assert/strict";
import { copyDigest, isServedCopy } from "./known_copy.ts";

const enc = new TextEncoder();
const served = enc.encode(
  "From: a@x\r\nSubject: hi\r\nX-Pm-Internal-Id: abc\r\n\r\nbody line\r\nX-TUID: in the body\r\n",
);

Deno.test("isServedCopy: the same bytes, or as mbsync and offlineimap upload them back", () => {
  assert.ok(isServedCopy(served, served.slice()));
  // mbsync: an X-TUID field at the end of the header, Maildir's LF line ends turned back to CRLF.
  const mbsync = enc.encode(
    "From: a@x\nSubject: hi\nX-Pm-Internal-Id: abc\nX-TUID: S6VLwG5vNCd8\n\nbody line\n" +
      "X-TUID: in the body\n",
  );
  assert.ok(isServedCopy(served, mbsync));
  const offlineimap = enc.encode(
    "X-OfflineIMAP: 1234-5678\r\nFrom: a@x\r\nSubject: hi\r\nX-Pm-Internal-Id: abc\r\n\r\n" +
      "body line\r\nX-TUID: in the body\r\n",
  );
  assert.ok(isServedCopy(served, offlineimap));
});

Deno.test("isServedCopy: any other difference is another message", () => {
  const other = (text: string) => isServedCopy(served, enc.encode(text));
  // A changed header, body, or a tracking line in the body (not a header field) is not a copy.
  assert.ok(
    !other(
      "From: a@x\r\nSubject: hi!\r\nX-Pm-Internal-Id: abc\r\n\r\nbody line\r\n" +
        "X-TUID: in the body\r\n",
    ),
  );
  assert.ok(!other("From: a@x\r\nSubject: hi\r\nX-Pm-Internal-Id: abc\r\n\r\nbody line\r\n"));
  assert.ok(
    !other(
      "From: a@x\r\nSubject: hi\r\nX-Pm-Internal-Id: abc\r\n\r\nbody line\r\n" +
        "X-TUID: in the body\r\nX-TUID: more\r\n",
    ),
  );
  assert.ok(
    !other(
      "From: a@x\r\nSubject: hi\r\nX-Pm-Internal-Id: abc\r\nX-Other: 1\r\n\r\n" +
        "body line\r\nX-TUID: in the body\r\n",
    ),
  );
});

Deno.test("copyDigest: one Maildir file uploaded twice has one digest", () => {
  const file = "From: a@x\r\nSubject: s\r\n\r\nbody\r\n";
  const digest = copyDigest(enc.encode(file));
  assert.equal(digest.length, 32);
  assert.deepEqual(copyDigest(enc.encode("X-TUID: 1234\r\n" + file)), digest);
  assert.deepEqual(copyDigest(enc.encode(file.replaceAll("\r\n", "\n"))), digest);
  assert.notDeepEqual(copyDigest(enc.encode(file.replace("body", "other"))), digest);
});
